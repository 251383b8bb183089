package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// The security suite: the center with sign-in on, on a real SQLite store,
// over loopback. Each principal is a local account (for pages) and an API
// token (for the API) of one role.

const securityPassword = "a long enough password"

type secBundle struct {
	*testBundle
	dbPath   string
	clock    *clocktest.Clock // shared by the stores and the throttle
	accounts *sqlstore.AccountStore
	sessions *sqlstore.SessionStore
	tokens   *sqlstore.APITokenStore
	audit    *sqlstore.AuditStore
	// bearer holds an API token per role.
	bearer map[string]string
}

type secOptions struct {
	tickets  scorebridge.TicketService
	recs     []*scorebridge.Recommendation
	throttle Throttle
	oidc     *OIDCConfig
	tls      bool
	// config changes the server's configuration before it is built.
	config func(*Config)
	// accounts wraps the account store the server uses (to count calls).
	accounts func(scorebridge.AccountService) scorebridge.AccountService
	// listenURL is set when the test must know the server's URL before it
	// is built (the OIDC redirect URL); ln is then used.
	ts *httptest.Server
}

func setupSecure(t testing.TB, opts secOptions) *secBundle {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "scorebridge.db")
	db, err := sqlstore.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := clocktest.New(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	db.Now = clock.Now
	b := &secBundle{
		testBundle: &testBundle{db: db, recs: sqlstore.NewRecommendationService(db), scores: sqlstore.NewScoreService(db), logs: &syncBuffer{}},
		dbPath:     dbPath,
		clock:      clock,
		accounts:   sqlstore.NewAccountStore(db),
		sessions:   sqlstore.NewSessionStore(db),
		tokens:     sqlstore.NewAPITokenStore(db),
		audit:      sqlstore.NewAuditStore(db),
		bearer:     map[string]string{},
	}
	b.accounts.PasswordCost = bcrypt.MinCost
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", b.logs)
		}
	})
	if len(opts.recs) > 0 {
		if _, err := b.recs.SeedRecommendations(ctx, opts.recs); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range []string{scorebridge.RoleReader, scorebridge.RoleOperator, scorebridge.RoleAdmin} {
		if err := b.accounts.CreateAccount(ctx, &scorebridge.Account{Name: role + "-person", Role: role}, securityPassword); err != nil {
			t.Fatal(err)
		}
		secret, err := b.tokens.CreateAPIToken(ctx, &scorebridge.APIToken{Name: role + "-token", Role: role})
		if err != nil {
			t.Fatal(err)
		}
		b.bearer[role] = secret
	}
	var accounts scorebridge.AccountService = b.accounts
	if opts.accounts != nil {
		accounts = opts.accounts(accounts)
	}
	cfg := Config{
		Recommendations: b.recs,
		Scores:          b.scores,
		Tickets:         opts.tickets,
		Logger:          slog.New(slog.NewTextHandler(b.logs, nil)),
		Audit:           b.audit,
		Idempotency:     sqlstore.NewIdempotencyStore(db),
		DataVersion:     db.Version,
		Auth: &Auth{Accounts: accounts, Sessions: b.sessions, Tokens: b.tokens, Now: clock.Now,
			Throttle: opts.throttle, OIDC: opts.oidc},
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	b.server, err = NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case opts.ts != nil:
		b.ts = opts.ts
		b.ts.Config.Handler = b.server.Handler()
		b.ts.Start()
	case opts.tls:
		b.ts = httptest.NewTLSServer(b.server.Handler())
	default:
		b.ts = httptest.NewServer(b.server.Handler())
	}
	t.Cleanup(b.ts.Close)
	b.client = b.ts.Client()
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// send makes a request with extra headers and cookies.
func (b *secBundle) send(t testing.TB, method, path, contentType, body string, header http.Header, cookies ...*http.Cookie) *response {
	t.Helper()
	req, err := http.NewRequest(method, b.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, body: string(data)}
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// login signs in with a password and returns the session cookie.
func (b *secBundle) login(t testing.TB, name, password string, cookies ...*http.Cookie) (*response, *http.Cookie) {
	t.Helper()
	form := url.Values{"name": {name}, "password": {password}}
	r := b.send(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode(), nil, cookies...)
	for _, c := range r.Cookies() {
		if c.Name == sessionCookie || c.Name == secureSessionCookie {
			return r, c
		}
	}
	return r, nil
}

// patternPath turns a route pattern into a method and a concrete path.
func patternPath(pattern string) (string, string) {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	path = regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "no-such-id")
	return method, path
}

// TestEveryRouteEveryRole calls every route of the route table as nobody
// and as each role, and checks the server enforces the route's rule: a
// new route is covered the moment it is added to the table.
func TestEveryRouteEveryRole(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	routes := b.server.allRoutes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes in the table", len(routes))
	}
	for _, rt := range routes {
		method, path := patternPath(rt.pattern)
		body, ct := "", ""
		if method != http.MethodGet && method != http.MethodHead {
			if isAPI(httptest.NewRequest(method, path, nil)) {
				body, ct = "{}", "application/json"
			} else {
				ct = "application/x-www-form-urlencoded"
			}
		}
		// Nobody signed in.
		r := b.send(t, method, path, ct, body, nil)
		switch {
		case rt.role == rolePublic:
			if r.StatusCode == http.StatusUnauthorized || r.StatusCode == http.StatusForbidden {
				t.Errorf("%s is public but answered %d to nobody", rt.pattern, r.StatusCode)
			}
		case isAPI(r.Request) || method != http.MethodGet:
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s as nobody = %d, want 401", rt.pattern, r.StatusCode)
			} else if isAPI(r.Request) && r.apiError(t).Code != scorebridge.EUNAUTHORIZED {
				t.Errorf("%s as nobody: code %s", rt.pattern, r.apiError(t).Code)
			}
		default:
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
				t.Errorf("%s as nobody = %d to %q, want 303 to /login", rt.pattern, r.StatusCode, r.Header.Get("Location"))
			}
		}
		// Each role, by API token.
		for _, role := range []string{scorebridge.RoleReader, scorebridge.RoleOperator, scorebridge.RoleAdmin} {
			r := b.send(t, method, path, ct, body, bearerHeader(b.bearer[role]))
			allowed := rt.role == rolePublic || roleRank(role) >= roleRank(rt.role)
			if allowed && (r.StatusCode == http.StatusUnauthorized || r.StatusCode == http.StatusForbidden) {
				t.Errorf("%s as %s = %d, but the rule allows %s", rt.pattern, role, r.StatusCode, rt.role)
			}
			if !allowed && r.StatusCode != http.StatusForbidden {
				t.Errorf("%s as %s = %d, want 403 (rule: %s)", rt.pattern, role, r.StatusCode, rt.role)
			}
		}
	}
}

// TestRouteRules: a route without a rule stops the server from starting,
// and readers can change nothing.
func TestRouteRules(t *testing.T) {
	t.Parallel()
	if err := checkRouteRules([]route{{"GET /x", "", nil}}); err == nil || !strings.Contains(err.Error(), "no role rule") {
		t.Errorf("a route without a rule was accepted: %v", err)
	}
	if err := checkRouteRules([]route{{"GET /x", "superuser", nil}}); err == nil {
		t.Error("an unknown role was accepted")
	}
	if err := checkRouteRules([]route{{"GET /x", rolePublic, nil}, {"GET /x", rolePublic, nil}}); err == nil {
		t.Error("a route listed twice was accepted")
	}
	b := setup(t, setupOptions{noCatalog: true})
	// Only signing in and out and one's own password are open to readers
	// among the routes that change something.
	selfService := map[string]bool{"POST /login": true, "POST /logout": true, "POST /account/password": true}
	for _, rt := range b.server.allRoutes() {
		method, _ := patternPath(rt.pattern)
		if method == http.MethodGet || selfService[rt.pattern] {
			continue
		}
		if rt.role == rolePublic || rt.role == scorebridge.RoleReader {
			t.Errorf("%s changes state but its rule is %q", rt.pattern, rt.role)
		}
	}
}

func TestConfigNeedsAuthOrTrustedUser(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noCatalog: true})
	base := Config{Recommendations: b.recs, Scores: b.scores, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := NewServer(base); err == nil || !strings.Contains(err.Error(), "Auth") {
		t.Errorf("a server with neither sign-in nor a trusted user started: %v", err)
	}
	withBoth := base
	withBoth.User = DefaultUser
	withBoth.Auth = &Auth{}
	if _, err := NewServer(withBoth); err == nil {
		t.Error("Auth and User together were accepted")
	}
	noAudit := base
	noAudit.Auth = &Auth{Accounts: sqlstore.NewAccountStore(b.db), Sessions: sqlstore.NewSessionStore(b.db), Tokens: sqlstore.NewAPITokenStore(b.db)}
	if _, err := NewServer(noAudit); err == nil || !strings.Contains(err.Error(), "Audit") {
		t.Errorf("sign-in without an audit log was accepted: %v", err)
	}
}

func TestSignInSessionAndSignOut(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})

	r := b.send(t, http.MethodGet, "/actions?q=mfa", "", "", nil)
	r.wantStatus(t, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login?next="+url.QueryEscape("/actions?q=mfa") {
		t.Fatalf("redirect to %q", loc)
	}
	b.send(t, http.MethodGet, "/login?next=%2Factions", "", "", nil).wantStatus(t, http.StatusOK).wantContains(t, `name="next" value="/actions"`)

	r, c := b.login(t, "operator-person", "wrong password here")
	r.wantStatus(t, http.StatusUnauthorized).wantContains(t, "The name or the password is wrong.")
	if c != nil {
		t.Fatal("a failed sign-in set a session cookie")
	}
	r, _ = b.login(t, "nobody-at-all", "wrong password here")
	r.wantStatus(t, http.StatusUnauthorized).wantContains(t, "The name or the password is wrong.")

	form := url.Values{"name": {"operator-person"}, "password": {securityPassword}, "next": {"/actions"}}
	r = b.send(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode(), nil)
	r.wantStatus(t, http.StatusSeeOther)
	if r.Header.Get("Location") != "/actions" {
		t.Errorf("after sign-in to %q, want /actions", r.Header.Get("Location"))
	}
	c = r.Cookies()[0]
	if c.Name != sessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 0 || len(c.Value) < 40 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, no Max-Age, a long random value", c)
	}
	if c.Secure {
		t.Error("Secure cookie over plain HTTP would never come back")
	}
	home := b.send(t, http.MethodGet, "/", "", "", nil, c).wantStatus(t, http.StatusOK)
	home.wantContains(t, "operator-person", `action="/logout"`)
	home.wantNotContains(t, `href="/audit"`)
	// An open redirect through next is refused.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		form.Set("next", next)
		r := b.send(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode(), nil)
		if r.Header.Get("Location") != "/" {
			t.Errorf("next=%q sent the browser to %q", next, r.Header.Get("Location"))
		}
	}

	b.send(t, http.MethodPost, "/logout", "application/x-www-form-urlencoded", "", nil, c).wantStatus(t, http.StatusSeeOther)
	b.send(t, http.MethodGet, "/", "", "", nil, c).wantStatus(t, http.StatusSeeOther)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, c).wantStatus(t, http.StatusUnauthorized)

	// Idle and absolute timeouts end a session; the sign-in page says so.
	_, c = b.login(t, "reader-person", securityPassword)
	b.clock.Advance(scorebridge.DefaultSessionIdle + time.Minute)
	ended := b.send(t, http.MethodGet, "/actions", "", "", nil, c).wantStatus(t, http.StatusSeeOther)
	if loc := ended.Header.Get("Location"); !strings.HasSuffix(loc, "&error=ended") {
		t.Errorf("an ended session went to %q", loc)
	}
	b.send(t, http.MethodGet, "/login?error=ended", "", "", nil).wantContains(t, "Your session has ended")
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, c).wantStatus(t, http.StatusUnauthorized)
	_, c = b.login(t, "reader-person", securityPassword)
	for elapsed := time.Duration(0); elapsed < scorebridge.DefaultSessionAbsolute-time.Hour; elapsed += time.Hour {
		b.clock.Advance(time.Hour)
		b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, c).wantStatus(t, http.StatusOK)
	}
	b.clock.Advance(2 * time.Hour)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, c).wantStatus(t, http.StatusUnauthorized)

	events, _, _ := b.audit.FindAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignIn})
	var ok, failed int
	for _, e := range events {
		if e.Outcome == scorebridge.OutcomeSuccess {
			ok++
		} else if e.Outcome == scorebridge.OutcomeFailure {
			failed++
		}
		if e.Address != "127.0.0.1" {
			t.Errorf("sign-in event without the address: %+v", e)
		}
	}
	if failed != 2 || ok < 3 {
		t.Errorf("audit holds %d successful and %d failed sign-ins, want ≥3 and 2", ok, failed)
	}
	if n, _ := b.audit.CountAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignOut}); n != 1 {
		t.Errorf("%d sign-outs audited, want 1", n)
	}
}

// TestSessionFixation: a session token planted in the browser before
// sign-in (one the attacker got by signing in themselves, or made up) is
// never the one the victim ends up signed in with.
func TestSessionFixation(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	_, attacker := b.login(t, "reader-person", securityPassword)
	planted := &http.Cookie{Name: sessionCookie, Value: attacker.Value}
	_, victim := b.login(t, "admin-person", securityPassword, planted)
	if victim == nil || victim.Value == attacker.Value {
		t.Fatal("sign-in kept the planted session token")
	}
	b.send(t, http.MethodGet, "/audit", "", "", nil, attacker).wantStatus(t, http.StatusSeeOther)
	b.send(t, http.MethodGet, "/audit", "", "", nil, victim).wantStatus(t, http.StatusOK)

	made := &http.Cookie{Name: sessionCookie, Value: "attacker-chosen-value-0123456789abcdef0123456789"}
	_, victim2 := b.login(t, "admin-person", securityPassword, made)
	if victim2 == nil || victim2.Value == made.Value {
		t.Fatal("sign-in adopted a made-up session token")
	}
	b.send(t, http.MethodGet, "/audit", "", "", nil, made).wantStatus(t, http.StatusSeeOther)
}

// TestFirstPasswordMustChange: an account with a generated password can do
// nothing until it chooses its own, and the change ends its other sessions.
func TestFirstPasswordMustChange(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	ctx := context.Background()
	if err := b.accounts.CreateAccount(ctx, &scorebridge.Account{Name: "admin", Role: scorebridge.RoleAdmin, MustChangePassword: true}, "one-time-pass-1234"); err != nil {
		t.Fatal(err)
	}
	r, c := b.login(t, "admin", "one-time-pass-1234")
	r.wantStatus(t, http.StatusSeeOther)
	if r.Header.Get("Location") != "/account/password" {
		t.Fatalf("first sign-in to %q", r.Header.Get("Location"))
	}
	_, other := b.login(t, "admin", "one-time-pass-1234")
	if loc := b.send(t, http.MethodGet, "/actions", "", "", nil, c).wantStatus(t, http.StatusSeeOther).Header.Get("Location"); loc != "/account/password" {
		t.Errorf("a page before the change sent to %q", loc)
	}
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, c).wantStatus(t, http.StatusForbidden)
	b.send(t, http.MethodGet, "/account/password", "", "", nil, c).wantStatus(t, http.StatusOK).wantContains(t, "generated for the first sign-in")

	change := url.Values{"current": {"one-time-pass-1234"}, "password": {"my own new password"}, "confirm": {"my own new passwort"}}
	b.send(t, http.MethodPost, "/account/password", "application/x-www-form-urlencoded", change.Encode(), nil, c).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "differ")
	change.Set("confirm", "short")
	change.Set("password", "short")
	b.send(t, http.MethodPost, "/account/password", "application/x-www-form-urlencoded", change.Encode(), nil, c).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "at least 12 characters")
	change.Set("password", "my own new password")
	change.Set("confirm", "my own new password")
	r = b.send(t, http.MethodPost, "/account/password", "application/x-www-form-urlencoded", change.Encode(), nil, c).wantStatus(t, http.StatusSeeOther)
	fresh := r.Cookies()[0]
	if fresh.Value == c.Value {
		t.Error("the session token was not renewed by the password change")
	}
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, fresh).wantStatus(t, http.StatusOK)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, other).wantStatus(t, http.StatusUnauthorized)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", nil, c).wantStatus(t, http.StatusUnauthorized)
	if _, c := b.login(t, "admin", "one-time-pass-1234"); c != nil {
		t.Error("the one-time password still signs in")
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{throttle: Throttle{PerAccount: 3, PerAddress: 5, Window: 15 * time.Minute}})
	for range 3 {
		r, _ := b.login(t, "operator-person", "not the password")
		r.wantStatus(t, http.StatusUnauthorized)
	}
	// The right password is refused too while the account is throttled,
	// so guessing cannot go on.
	r, c := b.login(t, "operator-person", securityPassword)
	r.wantStatus(t, http.StatusTooManyRequests).wantContains(t, "Too many failed sign-ins")
	if c != nil || r.Header.Get("Retry-After") == "" {
		t.Errorf("throttled sign-in: cookie %v, Retry-After %q", c, r.Header.Get("Retry-After"))
	}
	// Another account is still open, until the address runs out.
	_, c = b.login(t, "reader-person", securityPassword)
	if c == nil {
		t.Fatal("throttling one account blocked another")
	}
	b.login(t, "reader-person", "not the password")
	b.login(t, "someone-else", "not the password")
	r, c = b.login(t, "admin-person", securityPassword)
	if r.StatusCode != http.StatusTooManyRequests || c != nil {
		t.Fatalf("address with 5 failures: %d", r.StatusCode)
	}
	// The window passes.
	b.clock.Advance(16 * time.Minute)
	if _, c := b.login(t, "operator-person", securityPassword); c == nil {
		t.Fatal("the lock did not end with the window")
	}
	if n, _ := b.audit.CountAuditEvents(context.Background(), scorebridge.AuditFilter{Outcome: outcomeThrottled}); n != 2 {
		t.Errorf("%d throttled sign-ins audited, want 2", n)
	}
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{recs: []*scorebridge.Recommendation{testRecommendation("tok-1", "Token test action")}})
	ctx := context.Background()
	patch := `{"state":"planned"}`
	b.send(t, http.MethodPatch, "/api/v1/recommendations/tok-1", "application/json", patch, bearerHeader(b.bearer[scorebridge.RoleReader])).
		wantStatus(t, http.StatusForbidden)
	b.send(t, http.MethodPatch, "/api/v1/recommendations/tok-1", "application/json", patch, bearerHeader(b.bearer[scorebridge.RoleOperator])).
		wantStatus(t, http.StatusOK)
	hist := b.send(t, http.MethodGet, "/api/v1/recommendations/tok-1/history", "", "", bearerHeader(b.bearer[scorebridge.RoleReader])).wantStatus(t, http.StatusOK)
	hist.wantContains(t, "token:operator-token")

	expires := b.clock.Now().Add(time.Hour)
	short := &scorebridge.APIToken{Name: "short", Role: scorebridge.RoleAdmin, ExpiresAt: &expires}
	shortSecret, _ := b.tokens.CreateAPIToken(ctx, short)
	revoked := &scorebridge.APIToken{Name: "revoked", Role: scorebridge.RoleAdmin}
	revokedSecret, _ := b.tokens.CreateAPIToken(ctx, revoked)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", bearerHeader(shortSecret)).wantStatus(t, http.StatusOK)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", bearerHeader(revokedSecret)).wantStatus(t, http.StatusOK)
	if err := b.tokens.RevokeAPIToken(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour)
	for name, h := range map[string]http.Header{
		"expired":   bearerHeader(shortSecret),
		"revoked":   bearerHeader(revokedSecret),
		"made up":   bearerHeader("sbt_madeupmadeupmadeupmadeupmadeupmadeupmade"),
		"no scheme": {"Authorization": {b.bearer[scorebridge.RoleAdmin]}},
		"basic":     {"Authorization": {"Basic YWRtaW46YWRtaW4="}},
		"empty":     {"Authorization": {"Bearer "}},
	} {
		for _, path := range []string{"/api/v1/score", "/actions"} {
			r := b.send(t, http.MethodGet, path, "", "", h)
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s token on %s = %d, want 401", name, path, r.StatusCode)
			}
			if path == "/api/v1/score" && (r.apiError(t).Code != scorebridge.EUNAUTHORIZED || r.Header.Get("WWW-Authenticate") == "") {
				t.Errorf("%s token: %s / %q", name, r.body, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	// Token use is audited (first use in an hour), and so is the change.
	uses, _, _ := b.audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditTokenUse})
	if len(uses) < 4 {
		t.Errorf("%d token uses audited, want at least 4", len(uses))
	}
	reqs, _, _ := b.audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditRequest, Actor: "token:operator-token"})
	if len(reqs) != 1 || reqs[0].Target != "PATCH /api/v1/recommendations/{id}" || reqs[0].Outcome != scorebridge.OutcomeSuccess {
		t.Errorf("state change audit = %+v", reqs)
	}
	// An attempt the role refused is kept too, as a failure.
	refused, _, _ := b.audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditRequest, Actor: "token:reader-token"})
	if len(refused) != 1 || refused[0].Outcome != scorebridge.OutcomeFailure || refused[0].Detail["status"] != float64(http.StatusForbidden) {
		t.Errorf("refused request audit = %+v", refused)
	}
}

// TestCrossSiteRequestsRefused: a state-changing request a browser sends
// from another site carries the victim's cookie but is refused, for every
// state-changing route.
func TestCrossSiteRequestsRefused(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{recs: []*scorebridge.Recommendation{testRecommendation("csrf-1", "CSRF target")}})
	_, c := b.login(t, "admin-person", securityPassword)
	crossSite := []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		{"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://sub.evil.example"}},
		{"Origin": {"https://evil.example"}},
	}
	for _, rt := range b.server.allRoutes() {
		method, path := patternPath(rt.pattern)
		if method == http.MethodGet {
			continue
		}
		path = strings.ReplaceAll(path, "no-such-id", "csrf-1")
		for _, h := range crossSite {
			r := b.send(t, method, path, "application/x-www-form-urlencoded", "state=risk_accepted", h, c)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site %s %s (%v) = %d, want 403", method, path, h, r.StatusCode)
			}
		}
	}
	rec, err := b.recs.FindRecommendationByID(context.Background(), "csrf-1")
	if err != nil || rec.State != scorebridge.StateToAddress {
		t.Fatalf("a cross-site request changed the action: %+v, %v", rec, err)
	}
	// The same request from the center's own page goes through.
	b.send(t, http.MethodPost, "/actions/csrf-1/state", "application/x-www-form-urlencoded", "state=planned",
		http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {b.ts.URL}}, c).wantStatus(t, http.StatusSeeOther)
	// The session is still valid: cross-site sign-out was refused too.
	b.send(t, http.MethodGet, "/", "", "", nil, c).wantStatus(t, http.StatusOK)
	// Only the real change is in the audit log, under its person.
	changes, _, _ := b.audit.FindAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditStateChange})
	if len(changes) != 1 || changes[0].Actor != "admin-person" || changes[0].Target != "POST /actions/{id}/state" || changes[0].Detail["path"] != "/actions/csrf-1/state" {
		t.Errorf("state change audit = %+v", changes)
	}
}

func TestAuditActionFor(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"POST /connections":                       scorebridge.AuditConnection,
		"DELETE /api/v1/connections/{id}":         scorebridge.AuditConnection,
		"POST /actions/{id}/state":                scorebridge.AuditStateChange,
		"PATCH /api/v1/recommendations/{id}":      scorebridge.AuditRequest,
		"POST /tickets":                           scorebridge.AuditRequest,
		"POST /api/v1/connections/{id}/authorize": scorebridge.AuditConnection,
	} {
		if got := auditActionFor(pattern); got != want {
			t.Errorf("auditActionFor(%q) = %s, want %s", pattern, got, want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	plain := setupSecure(t, secOptions{})
	for _, path := range []string{"/login", "/api/v1/score", "/healthz", "/no-such-page"} {
		r := plain.send(t, http.MethodGet, path, "", "", nil)
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q is not strict", path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		if r.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}

	tls := setupSecure(t, secOptions{tls: true})
	r := tls.send(t, http.MethodGet, "/login", "", "", nil)
	if hsts := r.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over TLS: %q", hsts)
	}
	_, c := tls.login(t, "reader-person", securityPassword)
	if c == nil || c.Name != secureSessionCookie || !c.Secure || !c.HttpOnly {
		t.Fatalf("session cookie over TLS: %+v", c)
	}
	tls.send(t, http.MethodGet, "/", "", "", nil, c).wantStatus(t, http.StatusOK)
}

// hostileTicketService serves tickets whose every field came back from a
// hostile (or compromised) ServiceNow instance.
type hostileTicketService struct {
	scorebridge.TicketService
	ticket *scorebridge.Ticket
	audit  []*scorebridge.TicketAuditEntry
}

func (h *hostileTicketService) FindTicketByID(context.Context, string) (*scorebridge.Ticket, error) {
	return h.ticket, nil
}

func (h *hostileTicketService) FindTickets(context.Context, scorebridge.TicketFilter) ([]*scorebridge.Ticket, error) {
	return []*scorebridge.Ticket{h.ticket}, nil
}

func (h *hostileTicketService) FindTicketPage(context.Context, scorebridge.TicketFilter) ([]*scorebridge.Ticket, string, error) {
	return []*scorebridge.Ticket{h.ticket}, "", nil
}

func (h *hostileTicketService) FindTicketAudit(context.Context, string) ([]*scorebridge.TicketAuditEntry, error) {
	return h.audit, nil
}

// TestStoredXSS: script planted in an action title, an imported
// remediation, a ticket name, values that come back from ServiceNow, a
// sign-in name (shown in the audit log) never runs on any page.
func TestStoredXSS(t *testing.T) {
	t.Parallel()
	const payload = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	imported := testRecommendation("xss-import", "Imported "+payload)
	imported.Remediation = `<p>Enable MFA</p><script>alert("remediation")</script><a href="javascript:alert(3)">x</a><iframe src="https://evil.example"></iframe>`
	tickets := &hostileTicketService{
		ticket: &scorebridge.Ticket{ID: "t-1", RecommendationIDs: []string{"xss-import"}, Type: scorebridge.TicketIncident,
			Name: "Ticket " + payload, Description: payload, Priority: 3, Status: scorebridge.TicketSent,
			Number: "INC" + payload, SysID: payload, URL: "javascript:alert(4)", State: payload, StateName: "State " + payload,
			Error: payload, CreatedAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		audit: []*scorebridge.TicketAuditEntry{{ID: 1, TicketID: "t-1", Kind: "response", Method: "POST", Path: "/api/now/table/incident",
			StatusCode: 201, Body: `{"result":{"number":"` + payload + `"}}`}},
	}
	b := setupSecure(t, secOptions{recs: []*scorebridge.Recommendation{imported}, tickets: tickets})
	admin := bearerHeader(b.bearer[scorebridge.RoleAdmin])
	body, _ := json.Marshal(map[string]any{"title": "User " + payload, "category": "Identity", "maxScore": 5, "remediation": payload})
	created := b.send(t, http.MethodPost, "/api/v1/recommendations", "application/json", string(body), admin).wantStatus(t, http.StatusCreated)
	var rec struct{ ID string }
	created.decode(t, &rec)
	if err := b.accounts.CreateAccount(context.Background(), &scorebridge.Account{Name: "Eve " + payload, Role: scorebridge.RoleReader}, securityPassword); err != nil {
		t.Fatal(err)
	}
	b.login(t, "Eve "+payload, "not the password")
	if _, err := b.tokens.CreateAPIToken(context.Background(), &scorebridge.APIToken{Name: "Token " + payload, Role: scorebridge.RoleReader}); err != nil {
		t.Fatal(err)
	}

	pages := []string{"/", "/actions", "/actions/xss-import", "/actions/" + rec.ID, "/tickets", "/tickets/t-1", "/tickets/t-1/audit",
		"/audit", "/access", "/login?next=" + url.QueryEscape(payload), "/actions?q=" + url.QueryEscape(payload)}
	for _, path := range pages {
		r := b.send(t, http.MethodGet, path, "", "", admin)
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, r.StatusCode)
			continue
		}
		checkNoScript(t, path, r.body)
		if strings.Contains(r.body, "<script>alert") {
			t.Errorf("%s: the payload came through unescaped", path)
		}
	}
	// The audit log shows the hostile name, escaped.
	b.send(t, http.MethodGet, "/audit?action=signin", "", "", admin).wantContains(t, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

// TestAuditPageAndExport: admins read, filter and export the audit log;
// nobody else can.
func TestAuditPageAndExport(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	ctx := context.Background()
	for i := range 7 {
		b.login(t, "operator-person", "wrong password "+strings.Repeat("x", i))
		b.clock.Advance(time.Minute)
	}
	b.audit.RecordAuditEvent(ctx, &scorebridge.AuditEvent{Actor: "system", Action: scorebridge.AuditTicketSend, Target: "t-9",
		Detail: map[string]any{"payload": map[string]any{"short_description": "Enable MFA"}, "access_token": "at-should-not-be-kept"}})
	admin := bearerHeader(b.bearer[scorebridge.RoleAdmin])
	page := b.send(t, http.MethodGet, "/audit?action=signin&outcome=failure", "", "", admin).wantStatus(t, http.StatusOK)
	if n := strings.Count(page.body, "operator-person"); n < 5 {
		t.Errorf("audit page shows %d failed sign-ins of operator-person", n)
	}
	page.wantNotContains(t, "t-9")
	b.send(t, http.MethodGet, "/audit?since=yesterday", "", "", admin).wantStatus(t, http.StatusBadRequest).wantContains(t, "since must be a date")
	for _, role := range []string{scorebridge.RoleReader, scorebridge.RoleOperator} {
		b.send(t, http.MethodGet, "/audit", "", "", bearerHeader(b.bearer[role])).wantStatus(t, http.StatusForbidden)
		b.send(t, http.MethodGet, "/api/v1/audit?format=jsonl", "", "", bearerHeader(b.bearer[role])).wantStatus(t, http.StatusForbidden)
	}

	var list auditListBody
	b.send(t, http.MethodGet, "/api/v1/audit?limit=3&action=signin", "", "", admin).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 3 || list.Next == "" {
		t.Fatalf("first page: %d items, next %q", len(list.Items), list.Next)
	}
	export := b.send(t, http.MethodGet, "/api/v1/audit?format=jsonl", "", "", admin).wantStatus(t, http.StatusOK)
	if ct := export.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		t.Errorf("export Content-Type %q", ct)
	}
	lines := strings.Split(strings.TrimSpace(export.body), "\n")
	if len(lines) < 8 {
		t.Fatalf("export has %d lines", len(lines))
	}
	for _, line := range lines {
		var e scorebridge.AuditEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "" || e.At.IsZero() {
			t.Fatalf("export line %q: %v", line, err)
		}
	}
	export.wantContains(t, "Enable MFA")
	export.wantNotContains(t, "at-should-not-be-kept", "wrong password")
	b.send(t, http.MethodGet, "/api/v1/audit?format=xml", "", "", admin).wantStatus(t, http.StatusBadRequest)
}

// TestNoSecretInDatabaseLogsOrPages signs in, makes and uses tokens and
// changes a password, then scans the database file, the log and every
// page an admin can read for any of the secrets involved.
func TestNoSecretInDatabaseLogsOrPages(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	ctx := context.Background()
	secrets := []string{securityPassword}
	for _, s := range b.bearer {
		secrets = append(secrets, s)
	}
	if err := b.accounts.CreateAccount(ctx, &scorebridge.Account{Name: "carol", Role: scorebridge.RoleOperator, MustChangePassword: true}, "first password of hers"); err != nil {
		t.Fatal(err)
	}
	_, c := b.login(t, "carol", "first password of hers")
	change := url.Values{"current": {"first password of hers"}, "password": {"second password of hers"}, "confirm": {"second password of hers"}}
	r := b.send(t, http.MethodPost, "/account/password", "application/x-www-form-urlencoded", change.Encode(), nil, c)
	secrets = append(secrets, "first password of hers", "second password of hers", c.Value, r.Cookies()[0].Value)
	b.login(t, "carol", "a wrong guess for carol")
	secrets = append(secrets, "a wrong guess for carol")
	// Someone types their password into the name field.
	b.login(t, "second password of hers", "second password of hers")
	for _, s := range b.bearer {
		b.send(t, http.MethodGet, "/api/v1/score", "", "", bearerHeader(s)).wantStatus(t, http.StatusOK)
	}
	b.send(t, http.MethodGet, "/api/v1/score?token="+b.bearer[scorebridge.RoleAdmin], "", "", bearerHeader(b.bearer[scorebridge.RoleAdmin]))

	admin := bearerHeader(b.bearer[scorebridge.RoleAdmin])
	var pages strings.Builder
	for _, path := range []string{"/audit", "/api/v1/audit?format=jsonl", "/api/v1/audit", "/", "/login"} {
		pages.WriteString(b.send(t, http.MethodGet, path, "", "", admin).wantStatus(t, http.StatusOK).body)
	}
	if err := b.db.SQL.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Err(); err != nil {
		t.Fatal(err)
	}
	var dbBytes []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(b.dbPath + suffix)
		if err == nil {
			dbBytes = append(dbBytes, data...)
		}
	}
	if len(dbBytes) == 0 {
		t.Fatal("database file not read")
	}
	for _, s := range secrets {
		if bytes.Contains(dbBytes, []byte(s)) {
			t.Errorf("secret %.12s… is in the database file", s)
		}
		if strings.Contains(b.logs.String(), s) {
			t.Errorf("secret %.12s… is in the log", s)
		}
		if strings.Contains(pages.String(), s) {
			t.Errorf("secret %.12s… is on a page", s)
		}
	}
}

// testRecommendation is an imported Microsoft action to act on.
func testRecommendation(id, title string) *scorebridge.Recommendation {
	return &scorebridge.Recommendation{
		ID: id, Title: title, Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceMicrosoft, SourceTool: scorebridge.ToolGraph,
		MaxScore: 10, State: scorebridge.StateToAddress, Raw: json.RawMessage(`{}`),
	}
}
