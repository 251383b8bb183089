package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticatedRequest measures what signing in costs a request:
// the same API call as the trusted test user (no lookup), with a session
// cookie and with an API token (one indexed lookup each), on SQLite.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	bundle := setupSecure(b, secOptions{})
	_, cookie := bundle.login(b, "reader-person", securityPassword)
	trusted := setup(b, setupOptions{noCatalog: true})
	cases := []struct {
		name    string
		handler http.Handler
		prepare func(*http.Request)
	}{
		{"trusted-user", trusted.server.Handler(), func(*http.Request) {}},
		{"session-cookie", bundle.server.Handler(), func(r *http.Request) { r.AddCookie(cookie) }},
		{"api-token", bundle.server.Handler(), func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+bundle.bearer["reader"]) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/score", nil)
				c.prepare(req)
				rec := httptest.NewRecorder()
				c.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
