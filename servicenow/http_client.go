package servicenow

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// HTTPOptions configure NewHTTPClient. The zero value is what production
// uses.
type HTTPOptions struct {
	// AllowPrivate lets the client reach loopback, private and link-local
	// addresses. Only for the simulator and tests on this machine.
	AllowPrivate bool
	// RootCAs replaces the system roots (tests with an httptest TLS server).
	RootCAs *x509.CertPool
	// Timeout bounds one whole request, answer included. Default 60s, the
	// instance's own transaction quota for the Table API.
	Timeout time.Duration
	// Transport, when set, is used as is instead of the guarded transport
	// built here (tests that wrap it).
	Transport http.RoundTripper
	// Observe, when set, is told of every call (the center's metrics).
	Observe CallObserver
}

// NewHTTPClient returns the HTTP client the center talks to instances with:
// timeouts on every phase, no proxy (a proxy would hide where the request
// really goes), a dialer that refuses non-public addresses unless
// AllowPrivate, and redirects followed only within the same scheme and host,
// so credentials never travel to another server.
func NewHTTPClient(opts HTTPOptions) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	rt := opts.Transport
	if rt == nil {
		dialer := GuardedDialer(opts.AllowPrivate)
		rt = &http.Transport{
			DialContext:           dialer.DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opts.RootCAs},
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: opts.Timeout,
			ExpectContinueTimeout: time.Second,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	if opts.Observe != nil {
		rt = &observedTransport{base: rt, observe: opts.Observe}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       opts.Timeout,
		CheckRedirect: sameHostRedirects,
	}
}

// GuardedDialer is the dialer behind NewHTTPClient, for other outbound
// protocols (SMTP): it refuses to connect to non-public addresses, as
// resolved, unless allowPrivate, and never to link-local or metadata ones.
func GuardedDialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			return checkDialAddr(address, allowPrivate)
		},
	}
}

// maxRedirects caps redirects within one instance.
const maxRedirects = 5

// ErrRedirectElsewhere is returned when an instance redirects to another
// host or scheme.
var ErrRedirectElsewhere = errors.New("servicenow: the instance redirected to another server; refusing to follow")

func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("servicenow: stopped after %d redirects", maxRedirects)
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("%w (%s)", ErrRedirectElsewhere, req.URL.Host)
	}
	return nil
}
