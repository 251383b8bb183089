package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// An authorization is completed only by whoever started it: the same
// browser session; for one started with an API token, the account that
// made the token, signed in anywhere or through one of its tokens; for a
// token the command line made (no account), any admin. Never another
// session, another account, or a request with no session at all.
func TestAuthorizationBinding(t *testing.T) {
	t.Parallel()
	b := setupSecure(t, secOptions{})
	ctx := context.Background()
	admin, err := b.accounts.FindAccountByName(ctx, "admin-person")
	if err != nil {
		t.Fatal(err)
	}
	other := &scorebridge.Account{Name: "other-admin", Role: scorebridge.RoleAdmin}
	if err := b.accounts.CreateAccount(ctx, other, securityPassword); err != nil {
		t.Fatal(err)
	}
	request := func(act *acting) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/connections/callback", nil)
		return r.WithContext(context.WithValue(r.Context(), actingKey{}, act))
	}
	inSession := func(a *scorebridge.Account, session string) *http.Request {
		return request(&acting{user: a.User(), account: a, sessionToken: session})
	}
	withRoleToken := func(createdBy, role string) *http.Request {
		tok := &scorebridge.APIToken{ID: "t-" + createdBy + role, Name: "ci", Role: role, CreatedBy: createdBy}
		return request(&acting{user: tok.User(), token: tok})
	}
	withToken := func(createdBy string) *http.Request { return withRoleToken(createdBy, scorebridge.RoleAdmin) }
	completes := func(start, callback *http.Request) bool {
		return slices.Contains(b.server.callbackBindings(callback), b.server.authorizationBinding(start))
	}

	for _, tc := range []struct {
		name            string
		start, callback *http.Request
		want            bool
	}{
		{"the same session", inSession(admin, "s-1"), inSession(admin, "s-1"), true},
		{"another session of the same account", inSession(admin, "s-1"), inSession(admin, "s-2"), false},
		{"another account's session", inSession(admin, "s-1"), inSession(other, "s-3"), false},
		{"no session", inSession(admin, "s-1"), request(&acting{}), false},
		{"a token's account, signed in", withToken("admin-person"), inSession(admin, "s-4"), true},
		{"a token of another account", withToken("admin-person"), inSession(other, "s-5"), false},
		{"the same token, scripted", withToken("admin-person"), withToken("admin-person"), true},
		{"a token of the account that made the token", withToken("admin-person"), withRoleToken("admin-person", scorebridge.RoleOperator), true},
		{"a token another account made", withToken("admin-person"), withToken("other-admin"), false},
		{"a command line token, any admin", withToken("cli"), inSession(other, "s-6"), true},
		{"a command line token, an admin token", withToken("cli"), withToken("cli"), true},
		{"a command line token, not an operator's token", withToken("cli"), withRoleToken("cli", scorebridge.RoleOperator), false},
		{"a session start, not a token of its account", inSession(admin, "s-7"), withToken("admin-person"), false},
	} {
		if got := completes(tc.start, tc.callback); got != tc.want {
			t.Errorf("%s: completes %v, want %v", tc.name, got, tc.want)
		}
	}
	if b.server.authorizationBinding(withToken("admin-person")) == "" || b.server.authorizationBinding(withToken("cli")) == "" {
		t.Fatal("an authorization started with a token is bound to nobody")
	}
}
