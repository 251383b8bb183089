package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/scorebridge/scorebridge"
)

// setupOIDC starts a local OpenID Connect provider and the center
// configured to sign in with it.
func setupOIDC(t *testing.T) (*secBundle, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	ts := httptest.NewUnstartedServer(nil)
	b := setupSecure(t, secOptions{ts: ts, oidc: &OIDCConfig{
		Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
		RedirectURL: "http://" + ts.Listener.Addr().String() + oidcCallbackPath,
		Scopes:      []string{"profile", "email", "groups"},
		AdminValues: []string{"sec-admins"}, OperatorValues: []string{"sec-ops"},
		DisplayName: "Example SSO",
	}})
	return b, m
}

// browser follows redirects by hand so each step can be checked, keeping
// cookies like a browser.
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func step(t *testing.T, c *http.Client, u string, want int) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("GET %s = %d, want %d", u, resp.StatusCode, want)
	}
	return resp
}

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	b, m := setupOIDC(t)
	b.send(t, http.MethodGet, "/login", "", "", nil).wantContains(t, "Sign in with Example SSO", `href="/auth/oidc/start?next=`)

	signIn := func(user *mockoidc.MockUser) (*http.Client, *http.Response) {
		m.QueueUser(user)
		br := newBrowser(t)
		start := step(t, br, b.ts.URL+"/auth/oidc/start?next=%2Factions", http.StatusFound)
		authURL, _ := url.Parse(start.Header.Get("Location"))
		q := authURL.Query()
		if !strings.HasPrefix(authURL.String(), m.AuthorizationEndpoint()) || q.Get("code_challenge_method") != "S256" ||
			len(q.Get("code_challenge")) < 43 || q.Get("nonce") == "" || len(q.Get("state")) < 32 || !strings.Contains(q.Get("scope"), "openid") {
			t.Fatalf("authorization request %s lacks PKCE, nonce or state", authURL)
		}
		back := step(t, br, authURL.String(), http.StatusFound)
		return br, step(t, br, back.Header.Get("Location"), http.StatusSeeOther)
	}

	br, done := signIn(&mockoidc.MockUser{Subject: "sub-alice", PreferredUsername: "alice.sso", Email: "alice@example.com", Groups: []string{"staff", "sec-admins"}})
	if done.Header.Get("Location") != "/actions" {
		t.Fatalf("after sign-in to %q, want /actions", done.Header.Get("Location"))
	}
	resp, err := br.Get(b.ts.URL + "/audit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("alice (sec-admins) on /audit = %d, want 200", resp.StatusCode)
	}

	signIn(&mockoidc.MockUser{Subject: "sub-bob", PreferredUsername: "bob.sso", Groups: []string{"sec-ops"}})
	signIn(&mockoidc.MockUser{Subject: "sub-carol", Email: "carol@example.com"})
	accounts, _ := b.accounts.FindAccounts(context.Background())
	roles := map[string]string{}
	for _, a := range accounts {
		if a.Provider == scorebridge.ProviderOIDC {
			roles[a.Name] = a.Role
		}
	}
	if roles["alice.sso"] != scorebridge.RoleAdmin || roles["bob.sso"] != scorebridge.RoleOperator || roles["carol@example.com"] != scorebridge.RoleReader {
		t.Errorf("roles from the group claim: %v", roles)
	}
	// The provider is the authority: alice losing the group loses admin.
	signIn(&mockoidc.MockUser{Subject: "sub-alice", PreferredUsername: "alice.sso", Groups: []string{"staff"}})
	if a, _ := b.accounts.FindAccounts(context.Background()); len(a) != 6 {
		t.Errorf("%d accounts, want 6 (3 local + 3 from the provider)", len(a))
	}
	n, _ := b.audit.CountAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeSuccess})
	if n != 4 {
		t.Errorf("%d successful sign-ins audited, want 4", n)
	}
}

func TestOIDCRefusesForgedCallbacks(t *testing.T) {
	t.Parallel()
	b, m := setupOIDC(t)
	wantLoginError := func(resp *http.Response, code string) {
		t.Helper()
		if loc := resp.Header.Get("Location"); loc != "/login?error="+code {
			t.Errorf("callback went to %q, want /login?error=%s", loc, code)
		}
		for _, c := range resp.Cookies() {
			if (c.Name == sessionCookie || c.Name == secureSessionCookie) && c.MaxAge >= 0 {
				t.Errorf("a refused callback set a session: %+v", c)
			}
		}
	}

	// A callback with a state this browser never started (login CSRF).
	br := newBrowser(t)
	start := step(t, br, b.ts.URL+"/auth/oidc/start", http.StatusFound)
	back := step(t, br, start.Header.Get("Location"), http.StatusFound)
	cb, _ := url.Parse(back.Header.Get("Location"))
	q := cb.Query()
	q.Set("state", "forged-state-forged-state-forged-state-1234")
	cb.RawQuery = q.Encode()
	wantLoginError(step(t, br, cb.String(), http.StatusSeeOther), "oidc")

	// A code delivered to another browser (no flow cookie).
	br = newBrowser(t)
	start = step(t, br, b.ts.URL+"/auth/oidc/start", http.StatusFound)
	back = step(t, br, start.Header.Get("Location"), http.StatusFound)
	wantLoginError(step(t, newBrowser(t), back.Header.Get("Location"), http.StatusSeeOther), "oidc")

	// A replayed callback: the flow cookie is single-use.
	good := step(t, br, back.Header.Get("Location"), http.StatusSeeOther)
	if good.Header.Get("Location") != "/" {
		t.Fatalf("first callback went to %q", good.Header.Get("Location"))
	}
	wantLoginError(step(t, br, back.Header.Get("Location"), http.StatusSeeOther), "oidc")

	// The provider refused.
	wantLoginError(step(t, newBrowser(t), b.ts.URL+oidcCallbackPath+"?error=access_denied&state=x", http.StatusSeeOther), "denied")

	// A wrong client secret: the code exchange fails.
	m.ClientSecret = "rotated-at-the-provider"
	br = newBrowser(t)
	start = step(t, br, b.ts.URL+"/auth/oidc/start", http.StatusFound)
	back = step(t, br, start.Header.Get("Location"), http.StatusFound)
	wantLoginError(step(t, br, back.Header.Get("Location"), http.StatusSeeOther), "oidc")

	n, _ := b.audit.CountAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure})
	if n != 5 {
		t.Errorf("%d failed sign-ins audited, want 5", n)
	}
	if strings.Contains(b.logs.String(), "rotated-at-the-provider") {
		t.Error("the client secret reached the log")
	}
}

func TestOIDCRoleMapping(t *testing.T) {
	t.Parallel()
	c := &OIDCConfig{AdminValues: []string{"a"}, OperatorValues: []string{"o"}}
	for claim, want := range map[any]string{"a": "admin", "o": "operator", "x": "reader"} {
		if got := c.Role(claim); got != want {
			t.Errorf("Role(%v) = %s, want %s", claim, got, want)
		}
	}
	if c.Role([]any{"o", "a"}) != "admin" || c.Role([]any{"x", "o"}) != "operator" || c.Role(nil) != "reader" || c.Role(42.0) != "reader" {
		t.Error("list claims map to the strongest role, anything else to reader")
	}
	if err := (&OIDCConfig{Issuer: "https://idp", ClientID: "c", ClientSecret: "s", RedirectURL: "https://center/wrong"}).validate(); err == nil {
		t.Error("a redirect URL that is not the callback was accepted")
	}
}
