package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestAPITokenEndpoints(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	admin := bearerHeader(b.bearer[scorebridge.RoleAdmin])

	var created apiTokenCreated
	b.send(t, http.MethodPost, "/api/v1/tokens", "application/json", `{"name":"deploy","role":"operator","expiresAt":"2027-01-31T00:00:00Z"}`, admin).
		wantStatus(t, http.StatusCreated).decode(t, &created)
	if !strings.HasPrefix(created.Token, scorebridge.APITokenPrefix) || created.Item.ID == "" || created.Item.Role != scorebridge.RoleOperator || created.Item.CreatedBy != "token:admin-token" {
		t.Fatalf("created %+v", created)
	}
	b.send(t, http.MethodGet, "/api/v1/score", "", "", bearerHeader(created.Token)).wantStatus(t, http.StatusOK)

	list := b.send(t, http.MethodGet, "/api/v1/tokens", "", "", admin).wantStatus(t, http.StatusOK)
	list.wantContains(t, created.Item.ID, `"name":"deploy"`)
	list.wantNotContains(t, created.Token, b.bearer[scorebridge.RoleReader])

	for _, bad := range []string{`{"name":"x","role":"root"}`, `{"name":"","role":"reader"}`, `{"name":"x","role":"reader","expiresAt":"2020-01-01T00:00:00Z"}`,
		`{"name":"x","role":"reader","expiresAt":"tomorrow"}`, `{"name":"x","role":"reader","secret":"mine"}`, `{"name":1,"role":"reader"}`} {
		b.send(t, http.MethodPost, "/api/v1/tokens", "application/json", bad, admin).wantStatus(t, http.StatusBadRequest)
	}
	b.send(t, http.MethodPost, "/api/v1/tokens", "text/plain", `{}`, admin).wantStatus(t, http.StatusUnsupportedMediaType)

	b.send(t, http.MethodDelete, "/api/v1/tokens/"+created.Item.ID, "", "", admin).wantStatus(t, http.StatusNoContent)
	b.send(t, http.MethodGet, "/api/v1/score", "", "", bearerHeader(created.Token)).wantStatus(t, http.StatusUnauthorized)
	b.send(t, http.MethodDelete, "/api/v1/tokens/no-such-token", "", "", admin).wantStatus(t, http.StatusNotFound)
	b.send(t, http.MethodPost, "/api/v1/tokens", "application/json", `{"name":"x","role":"admin"}`, bearerHeader(b.bearer[scorebridge.RoleOperator])).
		wantStatus(t, http.StatusForbidden)

	// The bundle's own tokens are made (and audited) by "system"; the API's
	// are the admin token's.
	byAdmin := scorebridge.AuditFilter{Actor: "token:admin-token", Address: "127.0.0.1"}
	byAdmin.Action = scorebridge.AuditTokenCreate
	n, _ := b.audit.CountAuditEvents(t.Context(), byAdmin)
	byAdmin.Action = scorebridge.AuditTokenRevoke
	m, _ := b.audit.CountAuditEvents(t.Context(), byAdmin)
	if n != 1 || m != 1 {
		t.Errorf("audited %d token creations and %d revocations, want 1 and 1", n, m)
	}
}

// TestAccessPage: admins see the accounts and tokens (never a token
// itself) and revoke a token from the page.
func TestAccessPage(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	_, c := b.login(t, "admin-person", securityPassword)
	page := b.send(t, http.MethodGet, "/access", "", "", nil, c).wantStatus(t, http.StatusOK)
	page.wantContains(t, "reader-person", "operator-person", "admin-person", "operator-token", `href="/access"`)
	for _, secret := range b.bearer {
		page.wantNotContains(t, secret)
	}
	list, _ := b.tokens.FindAPITokens(t.Context())
	var target *scorebridge.APIToken
	for _, tk := range list {
		if tk.Name == "operator-token" {
			target = tk
		}
	}
	sameOrigin := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {b.ts.URL}}
	r := b.send(t, http.MethodPost, "/access/tokens/"+target.ID+"/revoke", "application/x-www-form-urlencoded", "", sameOrigin, c).wantStatus(t, http.StatusSeeOther)
	if r.Header.Get("Location") != "/access?done=revoked" {
		t.Errorf("after revoke to %q", r.Header.Get("Location"))
	}
	b.send(t, http.MethodGet, "/api/v1/score", "", "", bearerHeader(b.bearer[scorebridge.RoleOperator])).wantStatus(t, http.StatusUnauthorized)
	b.send(t, http.MethodGet, "/access?done=revoked", "", "", nil, c).wantContains(t, "API token revoked", "revoked")
	_, rc := b.login(t, "reader-person", securityPassword)
	b.send(t, http.MethodGet, "/", "", "", nil, rc).wantStatus(t, http.StatusOK).wantNotContains(t, `href="/access"`, `href="/audit"`)
}
