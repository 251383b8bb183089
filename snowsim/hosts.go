package snowsim

import (
	"net"
	"net/http"
	"strings"
)

// HostGuard answers only requests addressed to the simulator itself: an IP
// address (the listen address, whichever interface), localhost, or one of
// names. Any other Host header is a DNS rebinding attempt (a page on
// attacker.example whose name now resolves to 127.0.0.1 reaching the
// well-known demo login) and is answered 421 Misdirected Request, which
// RFC 9110 15.5.20 gives for a request to a server that will not answer
// for that host.
func HostGuard(names []string, next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true}
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), ".")); n != "" {
			if h, _, err := net.SplitHostPort(n); err == nil {
				n = h
			}
			allowed[strings.Trim(n, "[]")] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
		if net.ParseIP(host) == nil && !allowed[host] {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusMisdirectedRequest)
			_, _ = w.Write([]byte("421 Misdirected Request: this simulator does not answer for host " + r.Host +
				"; use its address or a name given with --host\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
