package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

func TestForwardedClientFromTheRight(t *testing.T) {
	t.Parallel()
	proxies, err := ParseTrustedProxies("127.0.0.0/8, 10.0.0.0/8,2001:db8::/32, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{trustedProxies: proxies}
	for _, tc := range []struct {
		peer, xff, fwd, want string
	}{
		{"127.0.0.1", "", "", "127.0.0.1"},
		{"127.0.0.1", "203.0.113.9", "", "203.0.113.9"},
		// What the client wrote itself is left of what proxies appended.
		{"127.0.0.1", "1.2.3.4, 203.0.113.9", "", "203.0.113.9"},
		{"127.0.0.1", "1.2.3.4, 203.0.113.9, 10.0.0.5", "", "203.0.113.9"},
		{"127.0.0.1", "203.0.113.9, 10.0.0.5, 192.0.2.7", "", "203.0.113.9"},
		{"127.0.0.1", "10.0.0.9, 10.0.0.5", "", "10.0.0.9"}, // every hop trusted: the farthest
		{"127.0.0.1", "garbage, 10.0.0.5", "", "10.0.0.5"},  // not an address: the last hop known
		// An untrusted peer's headers are ignored.
		{"198.51.100.3", "203.0.113.9", `for=203.0.113.9`, "198.51.100.3"},
		// Forwarded, with ports, brackets and quotes, wins over X-Forwarded-For.
		{"127.0.0.1", "9.9.9.9", `for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https, for=203.0.113.9:5555`, "203.0.113.9"},
		{"127.0.0.1", "", `for="[2001:db9::1]:4711", for=10.0.0.5`, "2001:db9::1"},
		{"127.0.0.1", "", `for=unknown`, "127.0.0.1"},
		{"127.0.0.1", "::ffff:203.0.113.9", "", "203.0.113.9"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer + ":5000"
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.fwd != "" {
			r.Header.Set("Forwarded", tc.fwd)
		}
		if got := s.forwardedClient(r, tc.peer); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q, Forwarded %q: client %s, want %s", tc.peer, tc.xff, tc.fwd, got, tc.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, proxy.example"); err == nil {
		t.Error("a host name was accepted as a trusted proxy")
	}
}

// Behind a trusted proxy, the audit log records the real client and the
// sign-in throttle counts each client on its own: one client's failures do
// not lock out the others sharing the proxy. Without --trusted-proxies the
// headers are ignored.
func TestThrottleAndAuditBehindProxyChain(t *testing.T) {
	t.Parallel()
	proxies, _ := ParseTrustedProxies("127.0.0.0/8, 10.0.0.0/8")
	b := setupSecure(t, secOptions{
		throttle: Throttle{PerAccount: 10, PerAddress: 3, Window: 15 * time.Minute},
		config:   func(c *Config) { c.TrustedProxies = proxies },
	})
	login := func(client, name, password string) *response {
		form := url.Values{"name": {name}, "password": {password}}
		// The client forges an address; the outer proxy appends the real
		// one, the inner proxy its own.
		return b.send(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode(),
			http.Header{"X-Forwarded-For": {"6.6.6.6, " + client + ", 10.0.0.5"}})
	}
	for range 3 {
		login("203.0.113.9", "someone", "wrong password!!").wantStatus(t, http.StatusUnauthorized)
	}
	login("203.0.113.9", "reader-person", securityPassword).wantStatus(t, http.StatusTooManyRequests)
	if r := login("198.51.100.4", "reader-person", securityPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("another client behind the same proxy: %d, want signed in", r.StatusCode)
	}
	events, _, err := b.audit.FindAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignIn})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]int{}
	for _, e := range events {
		addrs[e.Address]++
	}
	if addrs["203.0.113.9"] != 4 || addrs["198.51.100.4"] != 1 || len(addrs) != 2 {
		t.Errorf("audited addresses %v, want the real clients only", addrs)
	}

	// Without trusted proxies the peer is the client, whatever it claims.
	plain := setupSecure(t, secOptions{})
	form := url.Values{"name": {"someone"}, "password": {"wrong password!!"}}
	plain.send(t, http.MethodPost, "/login", "application/x-www-form-urlencoded", form.Encode(), http.Header{"X-Forwarded-For": {"203.0.113.9"}})
	events, _, _ = plain.audit.FindAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignIn})
	if len(events) != 1 || events[0].Address != "127.0.0.1" {
		t.Errorf("without trusted proxies: %+v, want the TCP peer", events)
	}
}

// The center answers only its own host names, with a 421 that says why;
// probes answer any host.
func TestHostHeaderChecked(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{config: func(c *Config) { c.Hosts = []string{"center.example.org", "127.0.0.1:8080"} }})
	for host, want := range map[string]int{
		"center.example.org":     http.StatusSeeOther, // to the sign-in page
		"CENTER.example.org.":    http.StatusSeeOther,
		"center.example.org:443": http.StatusSeeOther,
		"127.0.0.1:8080":         http.StatusSeeOther,
		"rebind.evil.example":    http.StatusMisdirectedRequest,
		"127.0.0.1:9999":         http.StatusMisdirectedRequest,
		"center.example.org:81":  http.StatusMisdirectedRequest,
		"localhost:8080":         http.StatusMisdirectedRequest,
	} {
		req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/", nil)
		req.Host = host
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/api/v1/score", nil)
	req.Host = "rebind.evil.example"
	req.Header.Set("Authorization", "Bearer "+b.bearer[scorebridge.RoleAdmin])
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	body.Write(buf[:n])
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(body.String(), codeMisdirected) || !strings.Contains(body.String(), "rebind.evil.example") {
		t.Errorf("API for another host: %d %s", resp.StatusCode, body.String())
	}
	req, _ = http.NewRequest(http.MethodGet, b.ts.URL+"/healthz", nil)
	req.Host = "10.1.2.3:8080"
	resp, err = b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("probe by address: %d", resp.StatusCode)
	}
}
