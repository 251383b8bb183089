package snowsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// The test bundle of the OAuth, login, UI, rate limit, fault and
// notification tests: an instance on a movable clock behind a real HTTP
// server, with one registered OAuth client.

// movableClock is an instance clock that tests move forward.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Test OAuth client of the bundle.
const (
	testClientID     = "3f2c1d0e9b8a47c6a5d4e3f2c1b0a998"
	testClientSecret = "client-secret-for-tests"
	testRedirect     = "https://center.example/oauth/callback"
)

type simEnv struct {
	in     *snowsim.Instance
	srv    *httptest.Server
	clock  *movableClock
	client Record // the registered oauth_entity
}

// Record is a record as the Go API returns it.
type Record = snowsim.Record

func newSimEnv(t testing.TB, knobs snowsim.Knobs) *simEnv {
	t.Helper()
	clock := &movableClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	in, err := snowsim.New(snowsim.Options{Clock: clock.Now, Knobs: knobs})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	client, err := in.Insert("oauth_entity", map[string]string{
		"name": "scorebridge", "client_id": testClientID, "client_secret": testClientSecret, "redirect_url": testRedirect,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &simEnv{in: in, srv: srv, clock: clock, client: client}
}

// browser returns an HTTP client with a cookie jar that does not follow
// redirects, so tests see every hop.
func (e *simEnv) browser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location(t testing.TB) *url.URL {
	t.Helper()
	loc := p.header.Get("Location")
	if loc == "" {
		t.Fatalf("no Location header (status %d): %s", p.status, p.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func fetch(t testing.TB, c *http.Client, method, target string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hiddenFields reads the hidden inputs of a page's form.
func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// login logs a browser in through the login form.
func (e *simEnv) login(t testing.TB, c *http.Client, user, password string) page {
	t.Helper()
	return fetch(t, c, http.MethodPost, e.srv.URL+"/login.do", url.Values{
		"user_name": {user}, "user_password": {password}, "sysparm_goto_url": {"/incident_list.do"},
	})
}

// token posts a token request.
func (e *simEnv) token(t testing.TB, form url.Values) (int, map[string]any) {
	t.Helper()
	p := fetch(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/oauth_token.do", form)
	var body map[string]any
	if err := json.Unmarshal([]byte(p.body), &body); err != nil {
		t.Fatalf("token answer is not JSON (status %d): %s", p.status, p.body)
	}
	return p.status, body
}

func (e *simEnv) passwordGrant(t testing.TB, user, password string) map[string]any {
	t.Helper()
	status, body := e.token(t, url.Values{"grant_type": {"password"}, "client_id": {testClientID},
		"client_secret": {testClientSecret}, "username": {user}, "password": {password}})
	if status != http.StatusOK {
		t.Fatalf("password grant: %d %v", status, body)
	}
	return body
}

// api calls a REST API with a Bearer token (or none when token is "").
func (e *simEnv) api(t testing.TB, method, path, token, body string) page {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

// basic calls a REST API as admin with Basic authentication.
func (e *simEnv) basic(t testing.TB, method, path, body string) page {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func TestNewRefusesBadKnobs(t *testing.T) {
	t.Parallel()
	for name, k := range map[string]snowsim.Knobs{
		"error rate above 1":  {Faults: snowsim.Faults{ErrorRate: 1.5}},
		"rates above 1":       {Faults: snowsim.Faults{ErrorRate: 0.6, DropRate: 0.6}},
		"negative latency":    {Faults: snowsim.Faults{Latency: -time.Second}},
		"relative notify URL": {NotifyURL: "/hook"},
		"negative per hour":   {RateLimitPerHour: -1},
	} {
		if _, err := snowsim.New(snowsim.Options{Knobs: k}); err == nil {
			t.Errorf("%s: New accepted %+v", name, k)
		}
	}
}
