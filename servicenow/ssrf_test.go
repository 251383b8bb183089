package servicenow_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/servicenow"
)

// Server-side request forgery: an admin (or whoever took over an admin's
// session) types the instance URL, and a hostile instance answers. Neither
// may point the center at something inside the network.

// TestSSRFInstanceURLs refuses the usual tricks for reaching an internal
// address through a URL, with and without private addresses allowed.
func TestSSRFInstanceURLs(t *testing.T) {
	t.Parallel()
	never := []string{ // refused even with allowPrivate (the simulator's mode)
		"https://169.254.169.254",               // cloud metadata (AWS, Azure, GCP)
		"https://169.254.169.254:443",           //
		"https://[::ffff:169.254.169.254]",      // the same, IPv4-mapped
		"https://[::ffff:a9fe:a9fe]",            // the same, in hex
		"https://[fe80::1]",                     // IPv6 link-local
		"https://[fd00:ec2::254]",               // AWS metadata over IPv6
		"https://0.0.0.0",                       // unspecified: this host
		"https://[::]",                          //
		"https://224.0.0.1",                     // multicast
		"https://[ff02::1]",                     //
		"file:///etc/passwd",                    // other schemes
		"gopher://127.0.0.1:6379/_FLUSHALL",     //
		"dict://127.0.0.1:11211/stats",          //
		"ftp://acme.service-now.com",            //
		"https://acme.service-now.com@10.0.0.1", // user info hiding the real host
		"https://10.0.0.1#@acme.service-now.com",
		"https://acme.service-now.com/../../169.254.169.254",
		"https://acme.service-now.com?next=http://169.254.169.254",
		"https://acme.service-now.com:99999999",
		"https://acme.service-now.com:0x1bb",
	}
	publicOnly := []string{ // refused unless allowPrivate
		"https://127.0.0.1", "https://127.1.2.3", "https://[::1]", "https://[::ffff:127.0.0.1]",
		"https://10.0.0.1", "https://172.16.5.4", "https://192.168.1.1", "https://[fd12:3456::1]",
		"https://100.64.0.1", "https://localhost", "https://LOCALHOST:8443",
		"http://acme.service-now.com", // plain http anywhere but loopback
	}
	for _, in := range never {
		for _, allow := range []bool{false, true} {
			if got, err := servicenow.ParseInstanceURL(in, allow); err == nil {
				t.Errorf("ParseInstanceURL(%q, allowPrivate=%v) = %q, want a refusal", in, allow, got)
			}
		}
	}
	for _, in := range publicOnly {
		got, err := servicenow.ParseInstanceURL(in, false)
		var ie *servicenow.InstanceURLError
		if err == nil || !errors.As(err, &ie) || ie.Reason == "" {
			t.Errorf("ParseInstanceURL(%q) = %q, %v; want a refusal with a reason", in, got, err)
		}
	}
	// What an on-premise or simulator setup needs still works when allowed.
	for _, in := range []string{"https://10.0.0.1", "http://127.0.0.1:8090", "https://[fd12:3456::1]:8443"} {
		if _, err := servicenow.ParseInstanceURL(in, true); err != nil {
			t.Errorf("ParseInstanceURL(%q, allowPrivate) = %v", in, err)
		}
	}
}

// TestSSRFDialRefusesInternalAddresses: whatever name a URL carries, the
// address it resolves to is checked when connecting, so a public-looking
// name pointing inside (DNS rebinding) is refused. localhost stands in for
// such a name: it resolves without the network.
func TestSSRFDialRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	reached := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached <- r.URL.Path }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	public := servicenow.NewHTTPClient(servicenow.HTTPOptions{Timeout: 5 * time.Second})
	for _, u := range []string{"http://localhost:" + port + "/by-name", srv.URL + "/by-ip"} {
		if resp, err := public.Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("GET %s reached a loopback server", u)
		} else if !strings.Contains(err.Error(), "refusing") {
			t.Errorf("GET %s: %v, want a refusal", u, err)
		}
	}
	// Link-local and metadata addresses are refused before any packet is
	// sent, even for a client that may reach private addresses.
	private := servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true, Timeout: 5 * time.Second})
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/api/token", "http://0.0.0.0:" + port + "/"} {
		_, err := private.Get(u)
		if err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("GET %s with AllowPrivate: %v, want a refusal", u, err)
		}
	}
	select {
	case p := <-reached:
		t.Errorf("a refused request arrived at %s", p)
	default:
	}
}

// TestSSRFHostileInstanceAnswers: an instance that redirects to metadata,
// sends an endless answer, or never answers cannot make the center fetch
// elsewhere, fill its memory or hang.
func TestSSRFHostileInstanceAnswers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/table/redirect"):
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
		case strings.Contains(r.URL.Path, "/table/huge"):
			w.Header().Set("Content-Type", "application/json")
			chunk := strings.Repeat("x", 1<<20)
			io.WriteString(w, `{"result":{"x":"`)
			for range servicenow.MaxResponseBytes/len(chunk) + 2 {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		case strings.Contains(r.URL.Path, "/table/slow"):
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	hc := servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true, Timeout: 300 * time.Millisecond})
	c := servicenow.NewClient(srv.URL, hc)
	ctx := context.Background()
	const id = "0123456789abcdef0123456789abcdef"

	if _, err := c.Get(ctx, "redirect", id); !errors.Is(err, servicenow.ErrRedirectElsewhere) {
		t.Errorf("redirect to metadata: %v, want ErrRedirectElsewhere", err)
	}
	if _, err := c.Get(ctx, "slow", id); err == nil {
		t.Error("an instance that never answers did not time out")
	}
	big := servicenow.NewClient(srv.URL, servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true, Timeout: time.Minute}))
	if _, err := big.Get(ctx, "huge", id); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an answer over %d bytes: %v, want a refusal", servicenow.MaxResponseBytes, err)
	}
}
