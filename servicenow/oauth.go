package servicenow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// OAuth endpoints of an instance.
const (
	AuthorizePath = "/oauth_auth.do"
	TokenPath     = "/oauth_token.do"
	RevokePath    = "/oauth_revoke_token.do"
)

// OAuthConfig is one OAuth application registry entry (oauth_entity) as the
// center uses it: the authorization code grant with PKCE, performed by the
// integration user.
type OAuthConfig struct {
	InstanceURL  string // base URL, no trailing slash
	ClientID     string
	ClientSecret string
	RedirectURL  string // the center's callback, as registered in oauth_entity.redirect_url
}

func (c *OAuthConfig) oauth2() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  c.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:  c.InstanceURL + AuthorizePath,
			TokenURL: c.InstanceURL + TokenPath,
			// ServiceNow wants client_id and client_secret in the form body.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// NewVerifier returns a fresh PKCE code verifier (RFC 7636, 32 random bytes).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL returns the /oauth_auth.do URL the integration user opens:
// response_type=code with state and an S256 challenge of verifier.
func (c *OAuthConfig) AuthCodeURL(state, verifier string) string {
	return c.oauth2().AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Token is what the token endpoint answered.
type Token struct {
	AccessToken  string
	RefreshToken string
	// ExpiresIn is the access token's lifetime as the instance said it
	// (expires_in); 0 when it did not say.
	ExpiresIn time.Duration
	// Expiry is when the access token stops working, by this machine's
	// clock at the time of the answer.
	Expiry time.Time
	Scope  string
}

// TokenError is a refusal from /oauth_token.do. ServiceNow answers a bad
// client, code or refresh token with 401 {"error":"server_error",
// "error_description":"access_denied"}; standard servers use 400
// invalid_grant / invalid_client.
type TokenError struct {
	StatusCode  int
	Code        string // "error"
	Description string // "error_description"
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("servicenow: token endpoint refused the request: %d %s %s", e.StatusCode, e.Code, e.Description)
}

// IsTokenRefused reports whether err is the token endpoint refusing the
// grant (as opposed to not being reachable): asking again with the same
// code or refresh token will fail the same way.
func IsTokenRefused(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.StatusCode >= 400 && te.StatusCode < 500 && te.StatusCode != http.StatusTooManyRequests
}

// Exchange trades an authorization code for tokens, proving the PKCE
// verifier. hc carries the request (NewHTTPClient).
func (c *OAuthConfig) Exchange(ctx context.Context, hc *http.Client, code, verifier string) (*Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	t, err := c.oauth2().Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenError(err)
	}
	return fromOAuth2(t), nil
}

// Refresh asks for a new access token with a refresh token. ServiceNow
// returns the same refresh token (it is not extended); when the answer has
// none, the one given is kept.
func (c *OAuthConfig) Refresh(ctx context.Context, hc *http.Client, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, &TokenError{StatusCode: http.StatusUnauthorized, Code: "invalid_grant", Description: "no refresh token"}
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	src := c.oauth2().TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	t, err := src.Token()
	if err != nil {
		return nil, tokenError(err)
	}
	return fromOAuth2(t), nil
}

// Revoke marks a token expired on the instance (oauth_revoke_token.do, which
// needs no authentication). It reports revoked=false without an error when
// the instance does not offer revocation.
func (c *OAuthConfig) Revoke(ctx context.Context, hc *http.Client, token string) (revoked bool, err error) {
	if token == "" {
		return false, nil
	}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.InstanceURL+RevokePath, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return false, &Error{Method: http.MethodPost, Path: RevokePath, Err: err}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return false, nil
	}
	return false, &Error{Method: http.MethodPost, Path: RevokePath, StatusCode: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
}

func fromOAuth2(t *oauth2.Token) *Token {
	out := &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, ExpiresIn: time.Duration(t.ExpiresIn) * time.Second}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scope = s
	}
	return out
}

// tokenError turns x/oauth2's error into a TokenError (a refusal) or an
// *Error (the endpoint could not be reached or answered nonsense). The
// answer body is not kept: it is the instance's, and nothing in it helps a
// person more than the status and error code.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		te := &TokenError{StatusCode: re.Response.StatusCode, Code: re.ErrorCode, Description: re.ErrorDescription}
		if te.StatusCode >= 500 || te.StatusCode == http.StatusTooManyRequests {
			return &Error{Method: http.MethodPost, Path: TokenPath, StatusCode: te.StatusCode, Message: strings.TrimSpace(te.Code + " " + te.Description)}
		}
		return te
	}
	return &Error{Method: http.MethodPost, Path: TokenPath, Err: err}
}

// Transport authenticates every request with the current access token of a
// TokenSource, which refreshes it when needed.
type Transport struct {
	Source TokenSource
	// Base sends the requests; default http.DefaultTransport.
	Base http.RoundTripper
}

// TokenSource hands out access tokens and hears when one was refused.
type TokenSource interface {
	// AccessToken returns a valid access token, refreshing it first when it
	// is about to expire.
	AccessToken(ctx context.Context) (string, error)
	// TokenRejected tells the source the instance answered 401 to token, so
	// the next AccessToken refreshes instead of handing it out again.
	TokenRejected(token string)
	// CallSucceeded tells the source the instance answered a call, for the
	// connection's "last successful call". It runs before RoundTrip
	// returns, with the request's context.
	CallSucceeded(ctx context.Context)
}

// RoundTrip adds the Bearer token. It does not retry a refused request: the
// body may not be replayable, and callers (jobs) retry on their own.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.Source.AccessToken(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", "Bearer "+tok)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r2)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		t.Source.TokenRejected(tok)
	} else if resp.StatusCode < 400 || resp.StatusCode == http.StatusNotFound {
		t.Source.CallSucceeded(req.Context())
	}
	return resp, nil
}
