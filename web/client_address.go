package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// clientAddress is the address a request came from, for throttling and the
// audit log: the TCP peer, or, when the peer is a trusted proxy, the client
// its forwarding headers name (resolveClient put it in the context).
func clientAddress(r *http.Request) string {
	if a := scorebridge.AddressFromContext(r.Context()); a != "" {
		return a
	}
	return peerAddress(r)
}

func peerAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// resolveClient finds the real client of a request and keeps it in the
// context. Forwarding headers are read only when the TCP peer is one of
// Config.TrustedProxies, since anyone else can write them; they are read
// from the right, skipping trusted hops, so the first untrusted address is
// the client (what a client writes itself is to the left of what the
// proxies appended).
func (s *Server) resolveClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := peerAddress(r)
		if len(s.trustedProxies) > 0 {
			addr = s.forwardedClient(r, addr)
		}
		next.ServeHTTP(w, r.WithContext(scorebridge.NewContextWithAddress(r.Context(), addr)))
	})
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.trustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient walks the forwarding chain of a request from peer.
// Forwarded (RFC 7239) is used when present, X-Forwarded-For otherwise.
func (s *Server) forwardedClient(r *http.Request, peer string) string {
	hop, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(hop) {
		return peer
	}
	chain := forwardedFor(r.Header.Values("Forwarded"))
	if len(r.Header.Values("Forwarded")) == 0 {
		chain = xForwardedFor(r.Header.Values("X-Forwarded-For"))
	}
	client := hop
	for i := len(chain) - 1; i >= 0; i-- {
		a, ok := parseForwardedAddr(chain[i])
		if !ok {
			// A trusted proxy reported something that is not an address
			// ("unknown", an obfuscated name): the last hop known is the
			// best answer.
			break
		}
		client = a.Unmap()
		if !s.trusted(client) {
			break
		}
	}
	return client.String()
}

// xForwardedFor splits X-Forwarded-For headers into their entries, in
// order.
func xForwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(e))
		}
	}
	return out
}

// forwardedFor returns the for= values of Forwarded headers, in order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					out = append(out, strings.Trim(val, `"`))
				}
			}
		}
	}
	return out
}

// parseForwardedAddr reads an address as forwarding headers write it:
// 192.0.2.1, 192.0.2.1:4711, 2001:db8::1 or [2001:db8::1]:4711.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// ParseTrustedProxies reads a comma-separated list of CIDRs or single
// addresses (the --trusted-proxies option).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, scorebridge.Errorf(scorebridge.EINVALID, "%q is neither a CIDR (10.0.0.0/8) nor an address.", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
