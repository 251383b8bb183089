package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// middleware wraps a handler; sign-in, sessions and rate limits live in
// the chain in routes, not in handlers.
type middleware func(http.Handler) http.Handler

// chain wraps h so the first middleware listed runs first.
func chain(h http.Handler, mws ...middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// contentSecurityPolicy allows only what the pages load from this origin:
// no inline script or style, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries, API and pages
// alike, so a page rendered from hostile source data still cannot run script.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection refuses state-changing requests a browser sends from
// another site (CSRF), using Sec-Fetch-Site and Origin. Scripts and tools
// that send neither header are not affected.
func (s *Server) crossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, scorebridge.Errorf(scorebridge.EFORBIDDEN, "Cross-origin request refused."))
	}))
	return cop.Handler(next)
}

// roleRank orders roles from least to most powerful; an unknown role ranks
// below reader and can do nothing.
func roleRank(role string) int {
	switch role {
	case scorebridge.RoleReader:
		return 1
	case scorebridge.RoleOperator:
		return 2
	case scorebridge.RoleAdmin:
		return 3
	}
	return 0
}

// hasRole reports whether u holds at least role.
func hasRole(u *scorebridge.User, role string) bool {
	return u != nil && roleRank(u.Role) >= roleRank(role)
}

// requireRole refuses the request unless the acting user holds at least
// role. rolePublic means the route is open (sign-in, assets, probes).
func (s *Server) requireRole(role string, next http.Handler) http.Handler {
	if role == rolePublic {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := scorebridge.UserFromContext(r.Context())
		if u == nil {
			s.signInRequired(w, r)
			return
		}
		if !hasRole(u, role) {
			s.error(w, r, scorebridge.Errorf(scorebridge.EFORBIDDEN, "This needs the %s role.", role))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size of a response for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request. It logs the path only: query
// strings and bodies may hold search terms or secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.logger.LogAttrs(r.Context(), levelFor(rec.status), "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// recoverPanics turns a panicking handler into a logged internal error, so
// one bad request cannot take the process down or leak a stack trace.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.error(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// isAPI reports whether a request is for the JSON API, which answers errors
// in JSON rather than as a page.
func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
}

// fallback answers requests no route matches (404) or matches with another
// method (405) in the same format as every other error, instead of the mux's
// plain-text replies.
func (s *Server) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch {
		case probe.status == http.StatusMethodNotAllowed:
			w.Header().Set("Allow", probe.header.Get("Allow"))
			s.errorStatus(w, r, http.StatusMethodNotAllowed, codeMethodNotAllowed, "Method "+r.Method+" is not allowed here.", "")
		case probe.status >= 300 && probe.status < 400:
			mux.ServeHTTP(w, r) // the mux's redirect to a cleaned path
		default:
			s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Page not found."))
		}
	})
}

// headerRecorder captures what the mux's own 404/405 handler would send, so
// fallback can keep the status and Allow header but answer in its format.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
