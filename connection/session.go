package connection

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// session is a connection's live state in this process: the access token
// in clear (memory only), the lock that makes refreshes one at a time, and
// the authenticated HTTP client handed to callers.
type session struct {
	svc  *Service
	id   string
	hc   *http.Client
	tok  atomic.Pointer[cachedToken]
	mu   sync.Mutex   // held while reading the store or refreshing
	seen atomic.Int64 // unix nanoseconds of the last "last success" written
	// rejected is the last access token the instance answered 401 to, so
	// the copy in the store is not handed out again either.
	rejected atomic.Pointer[string]
}

type cachedToken struct {
	access string
	expiry time.Time
	// lifespan is how long the token was issued for; 0 when it was read
	// from the store and the issue time is unknown.
	lifespan time.Duration
}

// successEvery throttles how often a successful call is written to the
// store: the page needs "last successful call", not a write per call.
const successEvery = 30 * time.Second

// refreshTimeout bounds one refresh. It runs detached from the caller's
// context, because other callers wait for it.
const refreshTimeout = 30 * time.Second

// recordSuccessTimeout bounds the write of "last successful call", which
// the caller of a successful request waits for.
const recordSuccessTimeout = 5 * time.Second

// session returns the connection's session, creating it on first use.
func (s *Service) session(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[id]; ss != nil {
		return ss
	}
	ss := &session{svc: s, id: id}
	base := s.http
	ss.hc = &http.Client{
		Transport:     &servicenow.Transport{Source: ss, Base: base.Transport},
		Timeout:       base.Timeout,
		CheckRedirect: base.CheckRedirect,
	}
	s.sessions[id] = ss
	return ss
}

// reset installs the token of a new authorization.
func (ss *session) reset(access string, expiry time.Time) {
	ss.tok.Store(&cachedToken{access: access, expiry: expiry, lifespan: expiry.Sub(ss.svc.now())})
}

// lifespan is how long the current access token was issued for, 0 when
// unknown.
func (ss *session) lifespan() time.Duration {
	if t := ss.tok.Load(); t != nil {
		return t.lifespan
	}
	return 0
}

// valid reports whether a cached token can still be handed out.
func (ss *session) valid(t *cachedToken) bool {
	return t != nil && t.access != "" && ss.svc.now().Add(ss.svc.cfg.RefreshMargin).Before(t.expiry)
}

// AccessToken returns a token that is valid for at least RefreshMargin,
// refreshing it when needed. Concurrent callers share one refresh: the
// first takes the lock and refreshes, the others wait and then find the new
// token. Returns EUNAUTHORIZED when the connection needs an admin to
// authorize again, EUNAVAILABLE when the instance could not be reached.
func (ss *session) AccessToken(ctx context.Context) (string, error) {
	if t := ss.tok.Load(); ss.valid(t) {
		return t.access, nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if t := ss.tok.Load(); ss.valid(t) {
		return t.access, nil
	}
	// Another replica may have refreshed already: the store is the truth.
	c, sec, err := ss.svc.store.FindConnectionSecrets(ctx, ss.id)
	if err != nil {
		return "", err
	}
	if err := needsAuthorization(c); err != nil {
		return "", err
	}
	if r := ss.rejected.Load(); sec.AccessToken != "" && c.AccessTokenExpiresAt != nil && (r == nil || *r != sec.AccessToken) {
		t := &cachedToken{access: sec.AccessToken, expiry: *c.AccessTokenExpiresAt}
		if ss.valid(t) {
			ss.tok.Store(t)
			return t.access, nil
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	tok, err := ss.svc.oauth(c, sec.ClientSecret).Refresh(rctx, ss.svc.http, sec.RefreshToken)
	if err != nil {
		ss.tok.Store(nil)
		if servicenow.IsTokenRefused(err) {
			msg := "The instance refused the refresh token: it expired or was revoked, the integration user was deactivated or locked out, or the client secret changed. An admin must authorize again; queued work waits until then."
			ss.svc.recordFailure(rctx, c, scorebridge.ConnectionAuthorizationRequired, CauseRefreshRefused, msg)
			return "", scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "%s", msg)
		}
		cause, msg := classify(err)
		ss.svc.recordFailure(rctx, c, scorebridge.ConnectionError, cause, "Refreshing the access token failed: "+msg)
		return "", scorebridge.Errorf(scorebridge.EUNAVAILABLE, "%s could not refresh its access token: %s", c.InstanceURL, msg)
	}
	if err := ss.svc.store.SaveRefresh(rctx, c.ID, ss.svc.tokens(c, tok, false)); err != nil {
		return "", err
	}
	ss.svc.forget()
	ss.seen.Store(ss.svc.now().UnixNano())
	expiry := ss.svc.accessExpiry(tok)
	ss.reset(tok.AccessToken, expiry)
	ss.svc.log.Info("access token refreshed", "connection", c.ID, "instance", c.InstanceURL, "expires", expiry.UTC().Format(time.RFC3339))
	return tok.AccessToken, nil
}

// TokenRejected drops the cached token when the instance refused it, so
// the next caller refreshes instead of failing the same way.
func (ss *session) TokenRejected(token string) {
	ss.rejected.Store(&token)
	if t := ss.tok.Load(); t != nil && t.access == token {
		ss.tok.CompareAndSwap(t, &cachedToken{})
	}
}

// CallSucceeded records the last successful call, at most every
// successEvery, before the call returns to its caller: one small write per
// connection every successEvery, bounded by the caller's context, so no
// write outlives the call (nor the database it goes to).
func (ss *session) CallSucceeded(ctx context.Context) {
	now := ss.svc.now().UnixNano()
	last := ss.seen.Load()
	if now-last < int64(successEvery) || !ss.seen.CompareAndSwap(last, now) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, recordSuccessTimeout)
	defer cancel()
	if err := ss.svc.store.RecordSuccess(ctx, ss.id); err != nil && scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
		ss.svc.log.Warn("recording a successful call failed", "connection", ss.id, "error", err)
	}
}

// needsAuthorization returns EUNAUTHORIZED for a connection that cannot
// call the instance until an admin authorizes it.
func needsAuthorization(c *scorebridge.Connection) error {
	switch c.Status {
	case scorebridge.ConnectionPending:
		return scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The connection to %s is not authorized yet. An admin must authorize it, signed in on the instance as the integration user.", c.InstanceURL)
	case scorebridge.ConnectionAuthorizationRequired:
		return scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The connection to %s needs an admin to authorize it again: %s", c.InstanceURL, c.LastError)
	}
	return nil
}

// ConnectedInstance returns the instance of a connection (the default when
// id is "") with an HTTP client that authenticates as the integration user.
// The token is checked (and refreshed when due) before returning, so a
// connection that needs authorization answers EUNAUTHORIZED here and the
// caller keeps its work queued. Returns ENOTFOUND, EUNAUTHORIZED and
// EUNAVAILABLE.
func (s *Service) ConnectedInstance(ctx context.Context, id string) (*scorebridge.ConnectedInstance, error) {
	c, err := s.findCached(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := needsAuthorization(c); err != nil {
		if c.Status == scorebridge.ConnectionAuthorizationRequired {
			s.notifyAuthorizationRequired(ctx, c, c.LastError, false)
		}
		return nil, err
	}
	ss := s.session(c.ID)
	if _, err := ss.AccessToken(ctx); err != nil {
		return nil, err
	}
	return &scorebridge.ConnectedInstance{ConnectionID: c.ID, BaseURL: c.InstanceURL, HTTPClient: ss.hc}, nil
}

// recordFailure stores a failure; a failure to store it is only logged,
// since the caller is already answering with the original error.
func (s *Service) recordFailure(ctx context.Context, c *scorebridge.Connection, status, cause, msg string) {
	if err := s.store.RecordFailure(ctx, c.ID, status, cause, msg); err != nil {
		s.log.Error("recording a connection failure failed", "connection", c.ID, "error", err)
	}
	s.forget()
	level := "connection error"
	if status == scorebridge.ConnectionAuthorizationRequired {
		level = "connection needs authorization"
		s.notifyAuthorizationRequired(ctx, c, msg, true)
	}
	s.log.Warn(level, "connection", c.ID, "instance", c.InstanceURL, "cause", cause, "message", msg)
}

// notifyAuthorizationRequired tells the notifier, under the connection's
// cause, that it needs an admin: always when it has just broken (broke),
// at most every notifyEvery while work finds it so. A failure to record it
// is only logged.
func (s *Service) notifyAuthorizationRequired(ctx context.Context, c *scorebridge.Connection, reason string, broke bool) {
	if s.cfg.Notifier == nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	last, seen := s.notified[c.ID]
	if seen && now.Sub(last) < notifyEvery && !broke {
		s.mu.Unlock()
		return
	}
	if s.notified == nil {
		s.notified = map[string]time.Time{}
	}
	s.notified[c.ID] = now
	s.mu.Unlock()
	n := scorebridge.Notification{
		Kind: scorebridge.NotifyAuthorizationRequired, Cause: "connection:" + c.ID,
		Subject: "The ServiceNow connection to " + c.InstanceURL + " needs an admin to authorize it again",
		Details: reason + " Tickets for it wait in the queue until then.",
	}
	if base := strings.TrimSuffix(s.cfg.RedirectURL, "/connections/callback"); base != s.cfg.RedirectURL {
		n.Links = []scorebridge.NotificationLink{{Title: "Authorize the connection", URL: base + "/connections/" + url.PathEscape(c.ID)}}
	}
	if err := s.cfg.Notifier.Notify(ctx, n); err != nil {
		s.log.Error("recording a notification failed", "connection", c.ID, "error", err)
	}
}

// notifyEvery is how often one connection that needs authorization tells
// the notifier again while work keeps finding it so; the notifier groups
// it all under the connection's cause anyway.
const notifyEvery = time.Minute

// Causes of a connection failure, as LastErrorCause records them.
const (
	CauseRefreshRefused = "refresh_refused"
	CauseUnreachable    = "unreachable"
	CauseTLS            = "tls"
	CauseRateLimited    = "rate_limited"
	CauseServerError    = "server_error"
	CauseRefused        = "refused"
)

// classify names the cause of a failed call and says it in words.
func classify(err error) (cause, message string) {
	var se *servicenow.Error
	if errors.As(err, &se) && se.StatusCode != 0 {
		switch {
		case se.StatusCode == http.StatusTooManyRequests:
			return CauseRateLimited, "the instance is rate limiting the integration user (" + describe(err) + ")"
		case se.StatusCode >= 500:
			return CauseServerError, "the instance answered with a server error (" + describe(err) + ")"
		}
		return CauseRefused, describe(err)
	}
	if isTLSError(err) {
		return CauseTLS, describeTransport(err)
	}
	return CauseUnreachable, describeTransport(err)
}

func isTLSError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify)
}

// describeTransport says why a request got no answer.
func describeTransport(err error) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &unknown):
		return "its TLS certificate is not signed by an authority this machine trusts"
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "its TLS certificate has expired or is not valid yet"
		}
		return "its TLS certificate is not valid: " + invalid.Error()
	case errors.As(err, &host):
		return "its TLS certificate is for another name: " + host.Error()
	case errors.Is(err, servicenow.ErrRedirectElsewhere):
		return "it redirected to another server, which the center does not follow"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return "it did not answer in time"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the name %s could not be resolved", dnsErr.Name)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "the connection was refused or could not be made: " + opErr.Err.Error()
	}
	return err.Error()
}
