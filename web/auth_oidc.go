package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/scorebridge/scorebridge"
	"golang.org/x/oauth2"
)

// OIDCConfig is the organisation's identity provider, for "Sign in with
// ..." over OpenID Connect (authorization code flow with PKCE).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// from Issuer + "/.well-known/openid-configuration". Required.
	Issuer string
	// ClientID and ClientSecret are the center's registration at the
	// provider. Required.
	ClientID     string
	ClientSecret string
	// RedirectURL is this center's callback as registered at the provider:
	// https://<center>/auth/oidc/callback. Required.
	RedirectURL string
	// Scopes requested besides "openid". Default profile and email; add
	// "groups" when the provider needs it to send group claims.
	Scopes []string
	// RoleClaim names the ID token claim that decides the role, a string or
	// a list of strings. Default "groups".
	RoleClaim string
	// AdminValues and OperatorValues are the claim values that make a
	// person a security admin or operator; anyone else is a reader.
	AdminValues    []string
	OperatorValues []string
	// DisplayName is the button's label. Default "your organisation".
	DisplayName string
	// HTTPClient reaches the provider. Default: a client with a 10 second
	// timeout.
	HTTPClient *http.Client
}

func (c *OIDCConfig) validate() error {
	if c.Issuer == "" || c.ClientID == "" || c.ClientSecret == "" || c.RedirectURL == "" {
		return errors.New("web: OIDC needs an issuer, a client id, a client secret and a redirect URL")
	}
	u, err := url.Parse(c.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != oidcCallbackPath {
		return fmt.Errorf("web: OIDC redirect URL %q must be an absolute http(s) URL ending in %s", c.RedirectURL, oidcCallbackPath)
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"profile", "email"}
	}
	if c.RoleClaim == "" {
		c.RoleClaim = "groups"
	}
	if c.DisplayName == "" {
		c.DisplayName = "your organisation"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return nil
}

// Role maps the role claim of an ID token to a role: admin when any value
// is an admin value, else operator when any is an operator value, else
// reader.
func (c *OIDCConfig) Role(claim any) string {
	var values []string
	switch v := claim.(type) {
	case string:
		values = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				values = append(values, s)
			}
		}
	}
	role := scorebridge.RoleReader
	for _, v := range values {
		if slices.Contains(c.AdminValues, v) {
			return scorebridge.RoleAdmin
		}
		if slices.Contains(c.OperatorValues, v) {
			role = scorebridge.RoleOperator
		}
	}
	return role
}

const (
	oidcCallbackPath = "/auth/oidc/callback"
	// oidcCookie carries the state, nonce and PKCE verifier of one sign-in
	// between the redirect to the provider and its callback.
	oidcCookie     = "scorebridge_oidc"
	oidcCookieLife = 10 * time.Minute
)

// oidcClient discovers the provider on first use and keeps it: a provider
// that is down at start-up must not stop the center.
type oidcClient struct {
	cfg *OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

func (c *oidcClient) oauth2(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.cfg.HTTPClient), 15*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("discover identity provider %s: %w", c.cfg.Issuer, err)
		}
		c.provider = p
	}
	oc := &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		Endpoint:     c.provider.Endpoint(),
		RedirectURL:  c.cfg.RedirectURL,
		Scopes:       append([]string{oidc.ScopeOpenID}, c.cfg.Scopes...),
	}
	return oc, c.provider.Verifier(&oidc.Config{ClientID: c.cfg.ClientID}), nil
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: the system random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) handleOIDCStart(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Sign-in with an identity provider is not configured."))
		return
	}
	oc, _, err := s.oidc.oauth2(r.Context())
	if err != nil {
		s.logger.ErrorContext(r.Context(), "oidc discovery failed", "error", err.Error())
		s.error(w, r, scorebridge.Errorf(scorebridge.EUNAVAILABLE, "The identity provider cannot be reached; try again shortly or sign in with a local account."))
		return
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	next := safeNext(r.URL.Query().Get("next"))
	http.SetCookie(w, &http.Cookie{
		Name:  oidcCookie,
		Value: strings.Join([]string{state, nonce, verifier, base64.RawURLEncoding.EncodeToString([]byte(next))}, "."),
		Path:  "/auth/oidc/", MaxAge: int(oidcCookieLife.Seconds()),
		// Lax: the provider's redirect back is a top-level cross-site GET.
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// oidcFailed ends a failed callback: the reason is logged and audited, the
// person sees a fixed message on the sign-in page.
func (s *Server) oidcFailed(w http.ResponseWriter, r *http.Request, code, reason string) {
	s.logger.WarnContext(r.Context(), "oidc sign-in failed", "reason", reason)
	s.recordAudit(r, &scorebridge.AuditEvent{Actor: "(identity provider)", Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure,
		Detail: map[string]any{"provider": scorebridge.ProviderOIDC, "reason": reason}})
	http.Redirect(w, r, "/login?error="+code, http.StatusSeeOther)
}

func (s *Server) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Sign-in with an identity provider is not configured."))
		return
	}
	// The flow cookie is single-use whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: "/auth/oidc/", MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.oidcFailed(w, r, "denied", "provider answered error "+clipText(e, 100))
		return
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		s.oidcFailed(w, r, "oidc", "no sign-in in progress in this browser (missing flow cookie)")
		return
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		s.oidcFailed(w, r, "oidc", "state does not match this browser's sign-in")
		return
	}
	nonce, verifier := parts[1], parts[2]
	nextBytes, _ := base64.RawURLEncoding.DecodeString(parts[3])
	oc, verify, err := s.oidc.oauth2(r.Context())
	if err != nil {
		s.oidcFailed(w, r, "oidc", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), s.oidc.cfg.HTTPClient), 15*time.Second)
	defer cancel()
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		s.oidcFailed(w, r, "oidc", "code exchange refused: "+clipText(err.Error(), 300))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.oidcFailed(w, r, "oidc", "the token answer holds no id_token")
		return
	}
	idt, err := verify.Verify(ctx, raw)
	if err != nil {
		s.oidcFailed(w, r, "oidc", "id_token refused: "+clipText(err.Error(), 300))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		s.oidcFailed(w, r, "oidc", "id_token nonce does not match")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		s.oidcFailed(w, r, "oidc", "id_token claims unreadable")
		return
	}
	name := firstClaim(claims, "preferred_username", "email", "name")
	if name == "" {
		name = idt.Subject
	}
	role := s.oidc.cfg.Role(claims[s.oidc.cfg.RoleClaim])
	acc, err := s.auth.Accounts.SignInOIDC(r.Context(), idt.Issuer+" "+idt.Subject, name, role)
	if err != nil {
		s.oidcFailed(w, r, "oidc", "account: "+scorebridge.ErrorMessage(err))
		return
	}
	if err := s.startSession(w, r, acc.ID); err != nil {
		s.error(w, r, err)
		return
	}
	s.recordAudit(r, &scorebridge.AuditEvent{Actor: acc.Name, Action: scorebridge.AuditSignIn, Target: acc.ID,
		Detail: map[string]any{"provider": scorebridge.ProviderOIDC, "role": acc.Role}})
	http.Redirect(w, r, safeNext(string(nextBytes)), http.StatusSeeOther)
}

func firstClaim(claims map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := claims[n].(string); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// clipText shortens a message from elsewhere before it is logged.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
