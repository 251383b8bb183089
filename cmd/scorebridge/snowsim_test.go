package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runningSnowsim is `scorebridge snowsim` running in the test through run().
type runningSnowsim struct {
	url   string
	lines []string // stdout up to the URL line
	stop  func() (int, string)
}

// startSnowsim runs the command with args and waits for its URL line.
func startSnowsim(t *testing.T, args ...string) *runningSnowsim {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		// The admin password is a secret: from the environment only.
		getenv := func(k string) string {
			if k == "SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD" {
				return "s3cret-Admin"
			}
			return ""
		}
		code <- run(ctx, append([]string{"snowsim"}, args...), getenv, outW, &stderr)
		outW.Close()
	}()
	rs := &runningSnowsim{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var rest []string
	var restDone = make(chan struct{})
	for rs.url == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				cancel()
				t.Fatalf("snowsim exited before serving (code %d): %s", <-code, stderr.String())
			}
			rs.lines = append(rs.lines, line)
			if _, u, found := strings.Cut(line, "running at "); found {
				rs.url = u
			}
		case <-time.After(20 * time.Second):
			cancel()
			t.Fatal("snowsim printed no URL")
		}
	}
	go func() {
		for line := range lines {
			rest = append(rest, line)
		}
		close(restDone)
	}()
	stopped := false
	rs.stop = func() (int, string) {
		if stopped {
			return 0, ""
		}
		stopped = true
		cancel()
		c := <-code
		<-restDone
		return c, strings.Join(rest, "\n") + stderr.String()
	}
	t.Cleanup(func() { rs.stop() })
	return rs
}

func adminRequest(t *testing.T, c *http.Client, method, url, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.SetBasicAuth("admin", "s3cret-Admin")
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestSnowsimServesAndKeepsStateAcrossRestarts(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "snow.json")
	args := []string{"--addr", "127.0.0.1:0", "--state", state, "--data-policy"}
	sim := startSnowsim(t, args...)
	if !strings.HasPrefix(sim.url, "http://127.0.0.1:") {
		t.Fatalf("URL %q", sim.url)
	}
	if out := strings.Join(sim.lines, "\n"); strings.Contains(out, "s3cret-Admin") {
		t.Fatalf("the admin password was printed: %s", out)
	}
	status, body := adminRequest(t, http.DefaultClient, http.MethodPost, sim.url+"/api/now/table/incident", `{"short_description":"kept","correlation_id":"e2e-1"}`)
	if status != http.StatusCreated {
		t.Fatalf("insert: %d %v", status, body)
	}
	id := body["result"].(map[string]any)["sys_id"].(string)
	// --data-policy is in force.
	if status, _ := adminRequest(t, http.DefaultClient, http.MethodPatch, sim.url+"/api/now/table/incident/"+id, `{"state":"6"}`); status != http.StatusForbidden {
		t.Fatalf("resolve without close fields under --data-policy: %d", status)
	}
	if code, out := sim.stop(); code != 0 || !strings.Contains(out, "snowsim: stopped") {
		t.Fatalf("stop: code %d: %s", code, out)
	}

	sim = startSnowsim(t, args...)
	status, body = adminRequest(t, http.DefaultClient, http.MethodGet, sim.url+"/api/now/table/incident/"+id, "")
	if status != http.StatusOK || body["result"].(map[string]any)["correlation_id"] != "e2e-1" {
		t.Fatalf("after restart: %d %v", status, body)
	}
}

func TestSnowsimTLS(t *testing.T) {
	t.Parallel()
	certPath := filepath.Join(t.TempDir(), "sim.pem")
	sim := startSnowsim(t, "--addr", "127.0.0.1:0", "--tls", "--tls-cert-out", certPath,
		"--rate-limit-per-hour", "100")
	if !strings.HasPrefix(sim.url, "https://") || !strings.Contains(strings.Join(sim.lines, "\n"), certPath) {
		t.Fatalf("TLS start: %q %v", sim.url, sim.lines)
	}
	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("certificate file holds no PEM certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodGet, sim.url+"/api/now/table/sys_user?sysparm_limit=1", nil)
	req.SetBasicAuth("admin", "s3cret-Admin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("HTTPS with the written certificate: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("X-RateLimit-Limit") != "100" {
		t.Fatalf("over TLS: %d, X-RateLimit-Limit %q", res.StatusCode, res.Header.Get("X-RateLimit-Limit"))
	}
}

func TestSnowsimRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--error-rate", "2"},
		{"--error-rate", "0.6", "--drop-rate", "0.6"},
		{"--latency", "-1s"},
		{"--notify", "ftp://x"},
		{"--addr", "nope"},
		{"extra"},
		{"--oauth-client-id", "x"},
		{"--oauth-redirect-url", "http://127.0.0.1/cb"},
	} {
		var stderr strings.Builder
		code := run(context.Background(), append([]string{"snowsim"}, args...), func(string) string { return "" }, io.Discard, &stderr)
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}

func TestSnowsimRegistersAnOAuthClient(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("client-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	code := make(chan int, 1)
	getenv := func(k string) string {
		if k == "SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET_FILE" {
			return secretFile
		}
		return ""
	}
	go func() {
		code <- run(ctx, []string{"snowsim", "--addr", "127.0.0.1:0", "--oauth-client-id", "demo-client",
			"--oauth-redirect-url", "http://127.0.0.1:8080/callback", "--sso"}, getenv, outW, io.Discard)
		outW.Close()
	}()
	sc := bufio.NewScanner(outR)
	var url string
	var out []string
	for url == "" && sc.Scan() {
		out = append(out, sc.Text())
		if _, u, ok := strings.Cut(sc.Text(), "running at "); ok {
			url = u
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if url == "" || !strings.Contains(strings.Join(out, "\n"), `OAuth application "scorebridge" registered with client ID demo-client`) {
		t.Fatalf("start output: %v", out)
	}
	form := "grant_type=password&client_id=demo-client&client_secret=client-s3cret&username=admin&password=admin"
	res, err := http.Post(url+"/oauth_token.do", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("token from the registered client: %d %v", res.StatusCode, tok)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/api/now/table/incident", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("Bearer on the Table API: %d", res.StatusCode)
	}
	// --sso: the login page is the SSO notice.
	res, err = http.Get(url + "/login.do")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "single sign-on") {
		t.Fatalf("--sso login page: %s", body)
	}
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("exit code %d", c)
	}
}
