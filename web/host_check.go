package web

import (
	"net"
	"net/http"
	"strings"
)

// checkHost answers only requests for one of Config.Hosts, with a 421
// otherwise: a page a browser loaded from another name (DNS rebinding onto
// this address) cannot reach the center. Probes are exempt, since load
// balancers call them by address. Without Config.Hosts every host is
// answered (tests, embedding).
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.hosts) == 0 || s.hosts[normalHost(r.Host)] || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		s.errorStatus(w, r, http.StatusMisdirectedRequest, codeMisdirected,
			"This center does not answer to the host "+quoteHost(r.Host)+". Use its address ("+strings.Join(s.hostList, ", ")+"), or add this one with --public-url.", "")
	})
}

// codeMisdirected answers a request for a host the center does not serve.
const codeMisdirected = "misdirected_request"

// normalHost lowercases a Host header and drops a trailing dot.
func normalHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(strings.TrimSuffix(host, "."), port)
	}
	return strings.TrimSuffix(h, ".")
}

func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100] + "…"
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, h) + "\""
}

// hostSet builds the set of Host header values answered: each host as
// given, and, for a host given without a port or with the scheme's default
// one, both forms.
func hostSet(hosts []string) map[string]bool {
	set := map[string]bool{}
	for _, h := range hosts {
		h = normalHost(h)
		if h == "" {
			continue
		}
		set[h] = true
		host, port, err := net.SplitHostPort(h)
		switch {
		case err != nil:
			set[net.JoinHostPort(h, "80")] = true
			set[net.JoinHostPort(h, "443")] = true
		case port == "80" || port == "443":
			if strings.Contains(host, ":") {
				set["["+host+"]"] = true
			} else {
				set[host] = true
			}
		}
	}
	return set
}
