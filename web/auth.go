package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Auth configures sign-in: who may use the center is decided here, on the
// server, for every request. Set it in Config.Auth; the product always does.
type Auth struct {
	// Accounts, Sessions and Tokens are required.
	Accounts scorebridge.AccountService
	Sessions scorebridge.SessionService
	Tokens   scorebridge.APITokenService
	// OIDC enables "Sign in with your organisation" over OpenID Connect;
	// nil offers local accounts only.
	OIDC *OIDCConfig
	// SecureCookies marks cookies Secure and sends HSTS on plain HTTP
	// requests too, for a center behind a proxy that ends TLS. Requests that
	// arrive over TLS always get both. Default false.
	SecureCookies bool
	// Throttle limits failed sign-ins; zero fields take the defaults.
	Throttle Throttle
	// Now is the clock for throttling windows. Default time.Now.
	Now func() time.Time
}

func (a *Auth) validate() error {
	if a.Accounts == nil || a.Sessions == nil || a.Tokens == nil {
		return errors.New("web: Config.Auth needs Accounts, Sessions and Tokens")
	}
	if a.OIDC != nil {
		if err := a.OIDC.validate(); err != nil {
			return err
		}
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	a.Throttle.defaults()
	return nil
}

// rolePublic marks a route anyone may call without signing in: the sign-in
// pages, static assets and probes. Every other route names a role.
const rolePublic = "public"

// checkRouteRules refuses a route table in which a route has no rule (or an
// unknown one), so a new route cannot be served by accident without a role
// check.
func checkRouteRules(routes []route) error {
	seen := map[string]bool{}
	for _, rt := range routes {
		if rt.role != rolePublic && !scorebridge.ValidRole(rt.role) {
			return fmt.Errorf("web: route %q has no role rule (%q): give it reader, operator, admin or public", rt.pattern, rt.role)
		}
		if seen[rt.pattern] {
			return fmt.Errorf("web: route %q is listed twice", rt.pattern)
		}
		seen[rt.pattern] = true
	}
	return nil
}

// acting is what the authentication middleware learned about a request,
// kept in its context for the sign-in pages.
type acting struct {
	user         *scorebridge.User
	account      *scorebridge.Account // nil for an API token or the trusted user
	sessionToken string
	// token is the API token a request came with, nil otherwise.
	token *scorebridge.APIToken
	// sessionEnded is set when the browser sent a session that has ended
	// (timed out, signed out elsewhere), so the sign-in page can say so.
	sessionEnded bool
}

type actingKey struct{}

func actingFrom(r *http.Request) *acting {
	a, _ := r.Context().Value(actingKey{}).(*acting)
	if a == nil {
		return &acting{}
	}
	return a
}

// authenticate finds who is acting (a Bearer API token or a session cookie)
// and puts the user in the request context, where requireRole checks it and
// the stores read it. A bad credential is refused here; no credential
// leaves the request anonymous so public routes still work. Without
// Config.Auth the trusted user of Config.User acts for every request.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if s.audit != nil {
			ctx = scorebridge.NewContextWithAudit(ctx, s.audit)
		}
		// Services record their audit events in their own transactions,
		// away from the request: they read its address from here.
		ctx = scorebridge.NewContextWithAddress(ctx, clientAddress(r))
		act := &acting{}
		switch {
		case s.auth == nil:
			act.user = s.user
		case r.Header.Get("Authorization") != "":
			tok, err := s.authenticateToken(r)
			if err != nil {
				if scorebridge.ErrorCode(err) == scorebridge.EUNAUTHORIZED {
					w.Header().Set("WWW-Authenticate", `Bearer realm="scorebridge", error="invalid_token"`)
				}
				s.error(w, r.WithContext(ctx), err)
				return
			}
			act.user, act.token = tok.User(), tok
		default:
			if c, err := r.Cookie(s.sessionCookieName(r)); err == nil && c.Value != "" {
				if _, acc, err := s.auth.Sessions.FindSession(ctx, c.Value); err == nil {
					act.user, act.account, act.sessionToken = acc.User(), acc, c.Value
				} else if scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
					s.error(w, r.WithContext(ctx), err)
					return
				} else {
					act.sessionEnded = true
					s.clearSessionCookie(w, r)
				}
			}
		}
		if act.user != nil {
			ctx = scorebridge.NewContextWithUser(ctx, act.user)
		}
		ctx = context.WithValue(ctx, actingKey{}, act)
		r = r.WithContext(ctx)
		if act.account != nil && act.account.MustChangePassword && !passwordChangeAllowed(r) {
			if isAPI(r) {
				s.error(w, r, scorebridge.Errorf(scorebridge.EFORBIDDEN, "Change your password first, at /account/password."))
				return
			}
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// passwordChangeAllowed lists what an account that must change its password
// can still reach.
func passwordChangeAllowed(r *http.Request) bool {
	p := r.URL.Path
	return p == "/account/password" || p == "/logout" || p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/")
}

// authenticateToken checks an "Authorization: Bearer" API token and
// records its first use in an hour in the audit log.
func (s *Server) authenticateToken(r *http.Request) (*scorebridge.APIToken, error) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The Authorization header must be \"Bearer <API token>\".")
	}
	tok, err := s.auth.Tokens.AuthenticateAPIToken(r.Context(), strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	if tok.LastUsedAt == nil || s.auth.Now().Sub(*tok.LastUsedAt) >= time.Hour {
		s.recordAudit(r, &scorebridge.AuditEvent{Actor: tok.User().Name, Action: scorebridge.AuditTokenUse, Target: tok.ID,
			Detail: map[string]any{"role": tok.Role, "method": r.Method, "path": r.URL.Path}})
	}
	return tok, nil
}

// signInRequired answers a request that needs a user and has none: a person
// is sent to the sign-in page and comes back afterwards; the API answers 401.
func (s *Server) signInRequired(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) || r.Method != http.MethodGet || s.auth == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scorebridge"`)
		s.error(w, r, scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "Sign-in required: sign in at /login, or send an API token as \"Authorization: Bearer <token>\"."))
		return
	}
	target := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
	if actingFrom(r).sessionEnded {
		target += "&error=ended"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// strictTransport tells browsers to use HTTPS only, when the center is
// served over TLS (directly or behind a proxy, per Auth.SecureCookies).
func (s *Server) strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.secure(r) {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// secure reports whether the request reached the center over TLS.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || (s.auth != nil && s.auth.SecureCookies)
}

// recordAudit records an event with the request's address; a failure is
// logged, never shown: the work the event describes is already done.
func (s *Server) recordAudit(r *http.Request, e *scorebridge.AuditEvent) {
	if s.audit == nil {
		return
	}
	if e.Address == "" {
		e.Address = clientAddress(r)
	}
	if err := s.audit.RecordAuditEvent(r.Context(), e); err != nil {
		s.logger.ErrorContext(r.Context(), "audit record failed", "action", e.Action, "error", err.Error())
	}
}

// auditRequest records every state-changing request a signed-in user or
// token makes, refused ones included: who, which route and the status it
// got. Bodies are not kept: they may hold secrets (a client secret, a
// password).
func (s *Server) auditRequest(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		u := scorebridge.UserFromContext(r.Context())
		if u == nil {
			return
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		outcome := scorebridge.OutcomeSuccess
		if rec.status >= 400 {
			outcome = scorebridge.OutcomeFailure
		}
		s.recordAudit(r, &scorebridge.AuditEvent{Action: auditActionFor(pattern), Outcome: outcome, Target: pattern,
			Detail: map[string]any{"method": r.Method, "path": r.URL.Path, "status": rec.status, "role": u.Role}})
	})
}

// auditActionFor names the audit action of a state-changing route, so the
// audit log can be filtered by what changed.
func auditActionFor(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	switch {
	case strings.HasPrefix(path, "/connections") || strings.HasPrefix(path, "/api/v1/connections"):
		return scorebridge.AuditConnection
	case strings.HasSuffix(path, "/state"):
		return scorebridge.AuditStateChange
	}
	return scorebridge.AuditRequest
}
