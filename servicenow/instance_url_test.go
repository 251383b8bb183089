package servicenow_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/servicenow"
)

func TestParseInstanceURL(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in, want     string
		allowPrivate bool
	}{
		{"acme", "https://acme.service-now.com", false},
		{"  ACME-dev2 ", "https://acme-dev2.service-now.com", false},
		{"acme.service-now.com", "https://acme.service-now.com", false},
		{"https://acme.service-now.com/", "https://acme.service-now.com", false},
		{"https://snow.example.org:8443", "https://snow.example.org:8443", false},
		{"https://snow.example.org:443", "https://snow.example.org", false},
		{"http://127.0.0.1:8090", "http://127.0.0.1:8090", true},
		{"http://localhost:8090", "http://localhost:8090", true},
		{"http://[::1]:8090", "http://[::1]:8090", true},
		{"https://10.1.2.3:8443", "https://10.1.2.3:8443", true},
	}
	for _, tc := range ok {
		got, err := servicenow.ParseInstanceURL(tc.in, tc.allowPrivate)
		if err != nil || got != tc.want {
			t.Errorf("ParseInstanceURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []struct {
		in, reason   string
		allowPrivate bool
	}{
		{"", "Give the instance", false},
		{"acme corp", "not an instance name", false},
		{"-acme", "not an instance name", false},
		{"acme_1", "not an instance name", false},
		{"ftp://acme.example.org", "must start with https://", false},
		{"http://acme.service-now.com", "Plain http is refused", false},
		{"http://acme.service-now.com", "Plain http is refused", true},
		{"http://127.0.0.1:8090", "Plain http is refused", false},
		{"https://127.0.0.1", "this machine", false},
		{"https://localhost", "this machine", false},
		{"https://10.1.2.3", "private address", false},
		{"https://192.168.0.10", "private address", false},
		{"https://[fd00::1]", "private address", false},
		{"https://169.254.169.254", "link-local", false},
		{"https://[fe80::1]", "link-local", false},
		{"https://[fd00:ec2::254]", "metadata", true},
		{"https://169.254.169.254", "link-local", true},
		{"https://100.64.1.1", "private address", false},
		{"https://0.0.0.0", "unspecified", false},
		{"https://admin:pw@acme.service-now.com", "user name or password", false},
		{"https://acme.service-now.com/now/nav", "must not have a path", false},
		{"https://acme.service-now.com?x=1", "query", false},
		{"https://acme.service-now.com:http", "not a valid URL", false},
	}
	for _, tc := range bad {
		_, err := servicenow.ParseInstanceURL(tc.in, tc.allowPrivate)
		var ie *servicenow.InstanceURLError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("ParseInstanceURL(%q, %v) err = %v; want one saying %q", tc.in, tc.allowPrivate, err, tc.reason)
		}
	}
}

func TestHTTPClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	hc := servicenow.NewHTTPClient(servicenow.HTTPOptions{})
	_, err := hc.Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("GET %s without AllowPrivate: err = %v, want a refusal naming loopback", srv.URL, err)
	}
	hc = servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true})
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with AllowPrivate: %v", err)
	}
	resp.Body.Close()
}

func TestHTTPClientRefusesRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect to another host was followed: %s %s (Authorization %q)", r.Method, r.URL, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/here" {
			w.Write([]byte("ok"))
			return
		}
		if r.URL.Path == "/same" {
			http.Redirect(w, r, "/here", http.StatusFound)
			return
		}
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	hc := servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true})
	resp, err := hc.Get(srv.URL + "/same")
	if err != nil {
		t.Fatalf("same-host redirect: %v", err)
	}
	resp.Body.Close()
	c := servicenow.NewClient(srv.URL, hc)
	_, err = c.Get(context.Background(), "incident", "0123456789abcdef0123456789abcdef")
	if !errors.Is(err, servicenow.ErrRedirectElsewhere) {
		t.Fatalf("redirect to another host: err = %v, want ErrRedirectElsewhere", err)
	}
}
