package connection_test

import (
	"context"
	"github.com/scorebridge/scorebridge/snowsim/consent"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestCreateRefusesBadInput: each refusal says why, and nothing is stored.
func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cases := []struct {
		in    scorebridge.ConnectionCreate
		field string
		says  string
	}{
		{scorebridge.ConnectionCreate{Instance: "acme corp", ClientID: "x", ClientSecret: "y"}, "instance", "not an instance name"},
		{scorebridge.ConnectionCreate{Instance: "", ClientID: "x", ClientSecret: "y"}, "instance", "Give the instance"},
		{scorebridge.ConnectionCreate{Instance: "http://acme.service-now.com", ClientID: "x", ClientSecret: "y"}, "instance", "Plain http is refused"},
		{scorebridge.ConnectionCreate{Instance: "https://169.254.169.254", ClientID: "x", ClientSecret: "y"}, "instance", "link-local"},
		{scorebridge.ConnectionCreate{Instance: "acme", ClientID: "", ClientSecret: "y"}, "clientId", "client id"},
		{scorebridge.ConnectionCreate{Instance: "acme", ClientID: "a b", ClientSecret: "y"}, "clientId", "one word"},
		{scorebridge.ConnectionCreate{Instance: "acme", ClientID: "abc\x00def", ClientSecret: "y"}, "clientId", "control or invisible"},
		{scorebridge.ConnectionCreate{Instance: "https://moc.won-ecivres.\u202eacme", ClientID: "x", ClientSecret: "y"}, "instance", "direction-changing"},
		{scorebridge.ConnectionCreate{Instance: "acme", ClientID: "x", ClientSecret: ""}, "clientSecret", "client secret"},
	}
	for _, tc := range cases {
		_, err := b.svc.CreateConnection(ctx, tc.in)
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != tc.field || !strings.Contains(scorebridge.ErrorMessage(err), tc.says) {
			t.Errorf("CreateConnection(%+v) = %v; want EINVALID on %s saying %q", tc.in, err, tc.field, tc.says)
		}
	}
	// Private addresses are refused by a production service even though
	// this test's service allows loopback.
	prod, err := connection.New(connection.Config{Store: b.store, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = prod.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: b.srv.URL, ClientID: "x", ClientSecret: "y"})
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID || !strings.Contains(scorebridge.ErrorMessage(err), "Plain http is refused") {
		t.Errorf("production service accepted %s: %v", b.srv.URL, err)
	}
	_, err = prod.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: "https://10.0.0.5", ClientID: "x", ClientSecret: "y"})
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID || !strings.Contains(scorebridge.ErrorMessage(err), "private address") {
		t.Errorf("production service accepted a private address: %v", err)
	}
	_, err = prod.RunChecklist(ctx, scorebridge.ChecklistInput{Instance: "https://192.168.1.10", AdminUser: "admin", AdminPassword: "admin"})
	wantCode(t, err, scorebridge.EINVALID)

	if all, err := b.svc.FindConnections(ctx); err != nil || len(all) != 0 {
		t.Fatalf("refused input left %d connections (%v)", len(all), err)
	}
}

// TestCallbackRefusals: forged, replayed and denied answers and a wrong
// client secret are refused, and the connection stays as it was.
func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, pw := b.checklist(t)

	// A forged state.
	q := b.consent(t, c.ID, connection.DefaultIntegrationUser, pw)
	_, err := b.svc.CompleteAuthorization(ctx, []string{testBinding}, "f0rged"+q.Get("state")[6:], q.Get("code"), "")
	wantCode(t, err, scorebridge.EINVALID)
	_, err = b.svc.CompleteAuthorization(ctx, []string{testBinding}, "", q.Get("code"), "")
	wantCode(t, err, scorebridge.EINVALID)

	// The genuine answer works once; replayed, it is refused.
	if _, err := b.svc.CompleteAuthorization(ctx, []string{testBinding}, q.Get("state"), q.Get("code"), ""); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.CompleteAuthorization(ctx, []string{testBinding}, q.Get("state"), q.Get("code"), "")
	wantCode(t, err, scorebridge.EINVALID)
	if !strings.Contains(scorebridge.ErrorMessage(err), "already used") {
		t.Errorf("replay message %q does not say why", scorebridge.ErrorMessage(err))
	}

	// Deny on the consent page.
	_, err = b.svc.CompleteAuthorization(ctx, []string{testBinding}, mustState(t, b, c.ID), "", "access_denied")
	wantCode(t, err, scorebridge.ECONFLICT)
	if !strings.Contains(scorebridge.ErrorMessage(err), "denied") {
		t.Errorf("deny message %q", scorebridge.ErrorMessage(err))
	}

	// A connection made with a wrong client secret: the instance refuses
	// the code, and nothing is stored.
	wrong, err := b.svc.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: b.srv.URL, ClientID: c.ClientID + "x", ClientSecret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	entities, _ := b.sim.Query("oauth_entity", "client_id="+c.ClientID)
	if _, err := b.sim.Update("oauth_entity", entities[0]["sys_id"], map[string]string{"client_id": c.ClientID + "x"}); err != nil {
		t.Fatal(err)
	}
	q = b.consent(t, wrong.ID, connection.DefaultIntegrationUser, pw)
	_, err = b.svc.CompleteAuthorization(ctx, []string{testBinding}, q.Get("state"), q.Get("code"), "")
	wantCode(t, err, scorebridge.EUNAUTHORIZED)
	if !strings.Contains(scorebridge.ErrorMessage(err), "client secret") {
		t.Errorf("wrong secret message %q does not mention the client secret", scorebridge.ErrorMessage(err))
	}
	got, _ := b.svc.FindConnectionByID(ctx, wrong.ID)
	_, sec, _ := b.store.FindConnectionSecrets(ctx, wrong.ID)
	if got.Status != scorebridge.ConnectionPending || sec.AccessToken != "" || sec.RefreshToken != "" {
		t.Fatalf("refused authorization changed the connection: %+v", got)
	}
}

// mustState starts an authorization and returns its state, as the
// instance would echo it back.
func mustState(t *testing.T, b *bundle, id string) string {
	t.Helper()
	u, err := b.svc.AuthorizeURL(context.Background(), id, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(u, "state=")
	if i < 0 {
		t.Fatalf("authorize URL %s has no state", u)
	}
	s := u[i+len("state="):]
	if j := strings.IndexByte(s, '&'); j >= 0 {
		s = s[:j]
	}
	if !strings.Contains(u, "code_challenge_method=S256") || !strings.Contains(u, "code_challenge=") {
		t.Fatalf("authorize URL %s lacks a PKCE S256 challenge", u)
	}
	return s
}

// TestAuthorizeWithSingleSignOn: on an instance with SSO, the integration
// user reaches the local login through "Not you?" and authorizes.
func TestAuthorizeWithSingleSignOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, pw := b.checklist(t)
	b.sim.SetSSO(true)
	if got := b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw); got.Status != scorebridge.ConnectionConnected {
		t.Fatalf("after authorizing past the SSO notice: %+v", got)
	}
	// A person's own account is refused by the integration user's password.
	u, err := b.svc.AuthorizeURL(context.Background(), c.ID, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	_, err = consent.AllowAs(context.Background(), servicenow.NewHTTPClient(b.httpOpt), u, connection.DefaultIntegrationUser, "not-the-password")
	if err == nil || !strings.Contains(err.Error(), "refused the login") {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestCallbackFromAnotherSession: the OAuth state is bound to the browser
// session that started the authorization. A callback carrying a valid state
// and code, completed in another session (a link sent to another admin, a
// leaked state), is refused, changes nothing, and the state is used up.
func TestCallbackFromAnotherSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, pw := b.checklist(t)
	q := b.consent(t, c.ID, connection.DefaultIntegrationUser, pw)
	_, err := b.svc.CompleteAuthorization(ctx, []string{"session-of-someone-else"}, q.Get("state"), q.Get("code"), "")
	wantCode(t, err, scorebridge.EFORBIDDEN)
	if !strings.Contains(scorebridge.ErrorMessage(err), "another browser session") {
		t.Errorf("message %q does not say why", scorebridge.ErrorMessage(err))
	}
	// No session at all is another session too.
	q2 := b.consent(t, c.ID, connection.DefaultIntegrationUser, pw)
	_, err = b.svc.CompleteAuthorization(ctx, nil, q2.Get("state"), q2.Get("code"), "")
	wantCode(t, err, scorebridge.EFORBIDDEN)
	got, _ := b.svc.FindConnectionByID(ctx, c.ID)
	if got.Status != scorebridge.ConnectionPending {
		t.Fatalf("a callback from another session changed the connection: %+v", got)
	}
	// The refused state is spent: the starting session cannot reuse it
	// either, and starts again.
	_, err = b.svc.CompleteAuthorization(ctx, []string{testBinding}, q.Get("state"), q.Get("code"), "")
	wantCode(t, err, scorebridge.EINVALID)
	if got := b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw); got.Status != scorebridge.ConnectionConnected {
		t.Fatalf("authorizing again from the starting session: %+v", got)
	}
}

// TestAuthorizedAsAnotherUser: an admin who authorizes with their own
// ServiceNow account instead of the integration user gets a connection
// flagged WrongUser (not a silent success, and the integration user is not
// replaced); accepting it is audited and makes that account the
// integration user; authorizing again as the integration user clears it.
func TestAuthorizedAsAnotherUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, pw := b.checklist(t)
	got := b.authorize(t, c.ID, "admin", "admin")
	if !got.WrongUser() || got.AuthorizedAs != "admin" || got.IntegrationUser != connection.DefaultIntegrationUser {
		t.Fatalf("authorized as admin: wrong user %v, authorized as %q, integration user %q", got.WrongUser(), got.AuthorizedAs, got.IntegrationUser)
	}
	// Redo: authorizing as the integration user clears the problem.
	if got := b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw); got.WrongUser() || got.AuthorizedAs != connection.DefaultIntegrationUser {
		t.Fatalf("authorized again as the integration user: %+v", got)
	}
	if _, err := b.svc.AcceptAuthorizedUser(ctx, c.ID); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
		t.Fatalf("accepting with nothing to accept: %v, want a conflict", err)
	}
	// Accept: the admin keeps the other account, and the audit says so.
	b.authorize(t, c.ID, "admin", "admin")
	actx := scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "u1", Name: "ana", Role: scorebridge.RoleAdmin})
	got, err := b.svc.AcceptAuthorizedUser(actx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.WrongUser() || got.IntegrationUser != "admin" {
		t.Fatalf("after accepting: %+v", got)
	}
	if stored, _ := b.svc.FindConnectionByID(ctx, c.ID); stored.IntegrationUser != "admin" || stored.WrongUser() {
		t.Fatalf("the accepted user was not stored: %+v", stored)
	}
	events, _, err := sqlstore.NewAuditStore(b.db).FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditConnection})
	if err != nil {
		t.Fatal(err)
	}
	if e := events[0]; e.Detail["change"] != "accepted_user" || e.Actor != "ana" || e.Detail["integration_user"] != "admin" || e.Detail["previous_integration_user"] != connection.DefaultIntegrationUser {
		t.Errorf("the newest connection event is %s %v, want ana accepting admin as the integration user", e.Actor, e.Detail)
	}
	if e := events[1]; e.Detail["change"] != "authorized" || e.Detail["authorized_as"] != "admin" {
		t.Errorf("the authorization as admin is audited as %v, without who authorized", e.Detail)
	}
}
