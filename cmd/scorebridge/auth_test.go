package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// testTokens holds an admin API token for each running test center, by its
// host:port, so the end-to-end helpers can call the API signed in.
var testTokens sync.Map

// registerTestToken makes an admin API token for a test center.
func registerTestToken(t testing.TB, c *center) {
	t.Helper()
	secret, err := c.auth.tokens.CreateAPIToken(context.Background(), &scorebridge.APIToken{Name: "test", Role: scorebridge.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	testTokens.Store(c.ln.Addr().String(), secret)
}

// authorizeTestRequest adds the test center's token to a request.
func authorizeTestRequest(req *http.Request) {
	if v, ok := testTokens.Load(req.URL.Host); ok {
		req.Header.Set("Authorization", "Bearer "+v.(string))
	}
}

// testGet is http.Get signed in with the test center's token.
func testGet(u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	authorizeTestRequest(req)
	return http.DefaultClient.Do(req)
}

// TestServeRequiresSignIn: the product never serves without sign-in; the
// first start creates an admin whose one-time password is printed once,
// must be changed at first sign-in, and never reaches the log.
func TestServeRequiresSignIn(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	c, err := openCenter(ctx, centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if c.firstAdmin == nil || len(c.firstAdmin.Password) < 20 {
		t.Fatalf("first start made no one-time admin password: %+v", c.firstAdmin)
	}
	var out bytes.Buffer
	printFirstAdmin(&out, c.URL(), c.firstAdmin.Password)
	if !strings.Contains(out.String(), c.firstAdmin.Password) || !strings.Contains(out.String(), c.URL()+"/login") {
		t.Errorf("first start message lacks the sign-in: %s", out.String())
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{"/api/v1/score": http.StatusUnauthorized, "/": http.StatusSeeOther, "/healthz": http.StatusOK, "/login": http.StatusOK} {
		resp, err := client.Get(c.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without sign-in = %d, want %d", path, resp.StatusCode, want)
		}
	}

	// Sign in with the one-time password: the center asks for a new one.
	resp, err := client.PostForm(c.URL()+"/login", url.Values{"name": {"admin"}, "password": {c.firstAdmin.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("first sign-in = %d to %q, want 303 to /account/password", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Cookies()[0]
	req, _ := http.NewRequest(http.MethodGet, c.URL()+"/api/v1/score", nil)
	req.AddCookie(cookie)
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("API before the password change = %d, want 403", resp.StatusCode)
	}
	// A restart does not make a second admin.
	if n, _ := c.auth.accounts.CountAccounts(ctx); n != 1 {
		t.Errorf("%d accounts after first start", n)
	}
	if again, err := c.auth.ensureFirstAdmin(ctx, ""); err != nil || again != nil {
		t.Errorf("second ensureFirstAdmin = %+v, %v", again, err)
	}
	if strings.Contains(logs.String(), c.firstAdmin.Password) {
		t.Error("the one-time password reached the log")
	}
	raw, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(dbPath + "-wal")
	if bytes.Contains(raw, []byte(c.firstAdmin.Password)) || bytes.Contains(wal, []byte(c.firstAdmin.Password)) {
		t.Error("the one-time password is in the database file")
	}
}

func TestServeAdminPasswordFromEnvironment(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	env := map[string]string{"SCOREBRIDGE_ADMIN_PASSWORD": "short"}
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "c.db")}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "SCOREBRIDGE_ADMIN_PASSWORD") {
		t.Fatalf("a too short admin password: code %d, %q", code, stderr.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := openCenter(ctx, centerConfig{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "c.db"), LogFormat: "text",
		Auth: authConfig{AdminPassword: "a password from the env"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.db.Close()
	if c.firstAdmin == nil || c.firstAdmin.Password != "" {
		t.Fatalf("firstAdmin = %+v; a configured password must not be printed", c.firstAdmin)
	}
	if acc, err := c.auth.accounts.Authenticate(ctx, "admin", "a password from the env"); err != nil || !acc.MustChangePassword {
		t.Fatalf("admin from env: %+v, %v", acc, err)
	}
	var out bytes.Buffer
	printFirstAdmin(&out, "http://x", "")
	if !regexp.MustCompile(`SCOREBRIDGE_ADMIN_PASSWORD`).MatchString(out.String()) {
		t.Errorf("message: %s", out.String())
	}
}

// TestDemoPrintsSignInAndToken: the demo shows the first sign-in and an
// admin API token that works on the API at once.
func TestDemoPrintsSignInAndToken(t *testing.T) {
	t.Parallel()
	c := startCenter(t, filepath.Join(t.TempDir(), "demo.db"))
	var out bytes.Buffer
	if err := c.printDemoSignIn(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), c.firstAdmin.Password) || !strings.Contains(out.String(), c.URL()+"/login") {
		t.Fatalf("demo output lacks the sign-in:\n%s", out.String())
	}
	token := regexp.MustCompile(`sbt_[A-Za-z0-9_-]{43}`).FindString(out.String())
	if token == "" {
		t.Fatalf("demo output lacks the API token:\n%s", out.String())
	}
	req, _ := http.NewRequest(http.MethodDelete, c.URL()+"/api/v1/recommendations/no-such-action", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an admin-only call with the demo token = %d, want 404 (allowed, nothing to delete)", resp.StatusCode)
	}
}
