package web

import (
	"context"
	"errors"
	"github.com/scorebridge/scorebridge/snowsim/consent"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// connectionBundle is the web server with a real connection service, a
// simulator over loopback and a clock the test moves.
type connectionBundle struct {
	*testBundle
	sim    *snowsim.Instance
	simURL string
	svc    *connection.Service
	store  *sqlstore.ConnectionStore
	dbPath string
	mu     sync.Mutex
	now    time.Time
	pages  []string // every body served, for the secret grep
}

func (b *connectionBundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *connectionBundle) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

func connectionSetup(t *testing.T) *connectionBundle {
	t.Helper()
	return connectionSetupAs(t, DefaultUser)
}

// connectionSetupAs is connectionSetup with another acting user.
func connectionSetupAs(t *testing.T, user *scorebridge.User) *connectionBundle {
	t.Helper()
	ctx := context.Background()
	b := &connectionBundle{testBundle: &testBundle{logs: &syncBuffer{}}, now: time.Now().UTC().Truncate(time.Second)}
	sim, err := snowsim.New(snowsim.Options{Clock: b.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	b.sim, b.simURL = sim, simSrv.URL

	b.dbPath = filepath.Join(t.TempDir(), "scorebridge.db")
	if b.db, err = sqlstore.Open(ctx, b.dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.db.Close() })
	b.db.Now = b.clock
	box, _, err := secret.LoadKey(func(string) string { return "" }, b.dbPath+".key")
	if err != nil {
		t.Fatal(err)
	}
	b.store = sqlstore.NewConnectionStore(b.db, box)
	b.recs, b.scores = sqlstore.NewRecommendationService(b.db), sqlstore.NewScoreService(b.db)

	b.ts = httptest.NewUnstartedServer(nil)
	logger := slog.New(slog.NewTextHandler(b.logs, nil))
	b.svc, err = connection.New(connection.Config{Store: b.store, RedirectURL: "http://" + b.ts.Listener.Addr().String() + "/connections/callback",
		HTTP: servicenow.HTTPOptions{AllowPrivate: true}, Logger: logger, Now: b.clock})
	if err != nil {
		t.Fatal(err)
	}
	if b.server, err = NewServer(Config{Recommendations: b.recs, Scores: b.scores, Connections: b.svc, Logger: logger, User: user,
		Idempotency: sqlstore.NewIdempotencyStore(b.db)}); err != nil {
		t.Fatal(err)
	}
	b.ts.Config.Handler = b.server.Handler()
	b.ts.Start()
	t.Cleanup(b.ts.Close)
	b.client = b.ts.Client()
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// keep records a served body for the secret grep.
func (b *connectionBundle) keep(r *response) *response {
	b.pages = append(b.pages, r.body)
	return r
}

var formAction = regexp.MustCompile(`action="(/connections/[0-9a-f]+/authorize)"`)
var continueLink = regexp.MustCompile(`href="([^"]*oauth_auth\.do[^"]*)"`)

// authorizeThroughPages presses Authorize on page, follows the warning
// page's link as the integration user, and lands on the callback.
func (b *connectionBundle) authorizeThroughPages(t *testing.T, page, password string) string {
	t.Helper()
	return b.authorizeThroughPagesAs(t, page, connection.DefaultIntegrationUser, password)
}

// authorizeThroughPagesAs is authorizeThroughPages signed in on the
// instance as user.
func (b *connectionBundle) authorizeThroughPagesAs(t *testing.T, page, user, password string) string {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no Authorize button on the page:\n%.3000s", page)
	}
	warn := b.keep(b.postForm(t, m[1], nil).wantStatus(t, http.StatusOK))
	warn.wantContains(t, "Sign in as the integration user", "not with your own account", "Not you?")
	link := continueLink.FindStringSubmatch(warn.body)
	if link == nil {
		t.Fatalf("no link to the instance on the warning page:\n%s", warn.body)
	}
	authURL := strings.ReplaceAll(link[1], "&amp;", "&")
	if !strings.HasPrefix(authURL, b.simURL+"/oauth_auth.do?") || !strings.Contains(authURL, "code_challenge_method=S256") {
		t.Fatalf("authorize link %s", authURL)
	}
	cb, err := consent.AllowAs(context.Background(), servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true}), authURL, user, password)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Host != strings.TrimPrefix(b.ts.URL, "http://") || cb.Path != "/connections/callback" {
		t.Fatalf("the instance sent the browser to %s, not the center's callback", cb)
	}
	done := b.keep(b.get(t, cb.RequestURI()).wantStatus(t, http.StatusSeeOther))
	return done.Header.Get("Location")
}

// TestConnectionPages walks the pages an admin uses, then checks that no
// page, API answer, log line or byte of the database holds a secret.
func TestConnectionPages(t *testing.T) {
	t.Parallel()
	b := connectionSetup(t)
	ctx := context.Background()

	home := b.keep(b.get(t, "/").wantStatus(t, http.StatusOK))
	home.wantContains(t, "Do you use ServiceNow?", `href="/connections/new"`)
	b.keep(b.get(t, "/connections").wantStatus(t, http.StatusOK)).wantContains(t, "No instance connected yet")
	b.keep(b.get(t, "/connections/new").wantStatus(t, http.StatusOK)).wantContains(t, b.svc.RedirectURL(), "installation checklist")

	// The checklist, with a password chosen by the admin.
	const integrationPassword = "Integration-Pass-2026!"
	ck := b.keep(b.postForm(t, "/connections/checklist", url.Values{"instance": {b.simURL}, "adminUser": {"admin"}, "adminPassword": {"admin"},
		"integrationPassword": {integrationPassword}}).wantStatus(t, http.StatusOK))
	ck.wantContains(t, "✓ Integration user", "✓ OAuth application registry entry", "✓ Connection saved")
	ck.wantNotContains(t, "✗", integrationPassword)

	loc := b.authorizeThroughPages(t, ck.body, integrationPassword)
	if !strings.HasSuffix(loc, "?done=authorized") {
		t.Fatalf("callback redirected to %q", loc)
	}
	page := b.keep(b.get(t, loc).wantStatus(t, http.StatusOK))
	page.wantContains(t, "Authorized: the center is connected", "Connected", connection.DefaultIntegrationUser, "Refresh token expires", "Last successful call")
	b.keep(b.get(t, "/").wantStatus(t, http.StatusOK)).wantContains(t, "Connected as "+connection.DefaultIntegrationUser)

	var list struct {
		Items []struct {
			ID, InstanceURL, Status, IntegrationUser, LastError string
			RefreshTokenExpiresAt                               *time.Time
		} `json:"items"`
	}
	r := b.keep(b.get(t, "/api/v1/connections").wantStatus(t, http.StatusOK))
	r.decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Status != scorebridge.ConnectionConnected || list.Items[0].IntegrationUser != connection.DefaultIntegrationUser ||
		list.Items[0].InstanceURL != b.simURL || list.Items[0].RefreshTokenExpiresAt == nil {
		t.Fatalf("GET /api/v1/connections = %s", r.body)
	}
	id := list.Items[0].ID
	var doc struct {
		Checks []struct {
			Name    string `json:"name"`
			OK      bool   `json:"ok"`
			Message string `json:"message"`
			Fix     string `json:"fix"`
		} `json:"checks"`
	}
	r = b.keep(b.get(t, "/api/v1/connections/"+id+"/doctor").wantStatus(t, http.StatusOK))
	r.decode(t, &doc)
	if len(doc.Checks) < 8 {
		t.Fatalf("doctor answered %d checks: %s", len(doc.Checks), r.body)
	}
	for _, c := range doc.Checks {
		if !c.OK {
			t.Errorf("doctor check %q failed on a healthy connection: %s", c.Name, c.Message)
		}
	}
	b.keep(b.get(t, "/connections/"+id+"/doctor").wantStatus(t, http.StatusOK)).wantContains(t, "Every check passed")

	// Work for the instance uses the token; then the instance revokes the
	// refresh token and the next refresh is refused.
	ci, err := b.svc.ConnectedInstance(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := servicenow.NewClient(ci.BaseURL, ci.HTTPClient).Create(ctx, "incident", map[string]string{"short_description": "Require MFA"}); err != nil {
		t.Fatal(err)
	}
	_, sec, err := b.store.FindConnectionSecrets(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{sec.ClientSecret, sec.AccessToken, sec.RefreshToken}
	(&servicenow.OAuthConfig{InstanceURL: b.simURL}).Revoke(ctx, servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true}), sec.RefreshToken)
	b.advance(31 * time.Minute)
	if _, err := b.svc.ConnectedInstance(ctx, ""); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
		t.Fatalf("after the refused refresh: %v, want EUNAUTHORIZED", err)
	}
	b.keep(b.get(t, "/").wantStatus(t, http.StatusOK)).wantContains(t, "Authorization required", "Tickets wait in the queue")
	r = b.keep(b.get(t, "/api/v1/connections/"+id).wantStatus(t, http.StatusOK))
	r.wantContains(t, `"status":"authorization_required"`, `"lastErrorCause":"refresh_refused"`)
	prov := b.keep(b.get(t, "/ticketProvisioning").wantStatus(t, http.StatusOK))
	prov.wantContains(t, "Authorization required")

	// Re-provisioning from /ticketProvisioning.
	loc = b.authorizeThroughPages(t, prov.body, integrationPassword)
	b.keep(b.get(t, loc).wantStatus(t, http.StatusOK)).wantContains(t, "Connected")
	_, sec, _ = b.store.FindConnectionSecrets(ctx, id)
	secrets = append(secrets, sec.AccessToken, sec.RefreshToken)

	// Errors answered on the way must not leak either.
	b.keep(b.get(t, "/connections/callback?state=forged&code=x").wantStatus(t, http.StatusBadRequest))
	b.keep(b.get(t, "/connections/"+id+"/remove").wantStatus(t, http.StatusOK))

	// Every page, API answer, log line and database byte, grepped.
	var stored strings.Builder
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(b.dbPath + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		stored.Write(data)
	}
	logs := b.logs.String()
	for _, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("secret %q too short to grep for", s)
		}
		for i, p := range b.pages {
			if strings.Contains(p, s) {
				t.Errorf("page %d holds a secret (%.6s...)", i, s)
			}
		}
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold a secret (%.6s...)", s)
		}
		if strings.Contains(stored.String(), s) {
			t.Errorf("the database file holds a secret (%.6s...) in clear", s)
		}
	}
	if len(b.pages) < 15 || !strings.Contains(logs, "/api/v1/connections") {
		t.Fatalf("the grep saw %d pages and logs of %d bytes: too little to mean anything", len(b.pages), len(logs))
	}

	// Removal.
	b.postForm(t, "/connections/"+id+"/remove", nil).wantStatus(t, http.StatusSeeOther)
	b.get(t, "/api/v1/connections").wantStatus(t, http.StatusOK).wantContains(t, `"items":[]`)
	b.get(t, "/").wantStatus(t, http.StatusOK).wantContains(t, "Do you use ServiceNow?")
}

// TestConnectionPagesWrongUser: authorizing signed in on the instance as
// its admin instead of the integration user is no success: the connection
// page names both accounts and offers to authorize again or keep the
// admin; keeping it is audited and clears the warning, here and on the
// home page.
func TestConnectionPagesWrongUser(t *testing.T) {
	t.Parallel()
	b := connectionSetup(t)
	const integrationPassword = "Integration-Pass-2026!"
	ck := b.postForm(t, "/connections/checklist", url.Values{"instance": {b.simURL}, "adminUser": {"admin"}, "adminPassword": {"admin"},
		"integrationPassword": {integrationPassword}}).wantStatus(t, http.StatusOK)
	loc := b.authorizeThroughPagesAs(t, ck.body, "admin", "admin")
	if strings.Contains(loc, "done=authorized") {
		t.Fatalf("authorized as the wrong user, the callback reports success: %s", loc)
	}
	page := b.get(t, loc).wantStatus(t, http.StatusOK)
	page.wantContains(t, "Authorized as admin, not the integration user", "Authorize again as "+connection.DefaultIntegrationUser, "Keep admin", "/accept-user")
	page.wantNotContains(t, "Authorized: the center is connected")
	b.get(t, "/").wantStatus(t, http.StatusOK).wantContains(t, "Authorized as admin, not the integration user")
	id := strings.TrimPrefix(loc, "/connections/")
	b.get(t, "/api/v1/connections/"+id).wantStatus(t, http.StatusOK).wantContains(t, `"wrongUser":true`, `"authorizedAs":"admin"`)

	done := b.postForm(t, "/connections/"+id+"/accept-user", nil).wantStatus(t, http.StatusSeeOther)
	page = b.get(t, done.Header.Get("Location")).wantStatus(t, http.StatusOK)
	page.wantContains(t, "Kept: the account that authorized is now the integration user of this connection")
	page.wantNotContains(t, "not the integration user")
	b.get(t, "/api/v1/connections/"+id).wantStatus(t, http.StatusOK).wantContains(t, `"wrongUser":false`, `"integrationUser":"admin"`)
	// Nothing left to accept.
	b.postForm(t, "/connections/"+id+"/accept-user", nil).wantStatus(t, http.StatusConflict)
}

// TestConnectionPagesBadInput: refusals are clear, keep what was typed
// except the secret, and store nothing.
func TestConnectionPagesBadInput(t *testing.T) {
	t.Parallel()
	b := connectionSetup(t)
	const typedSecret = "typed-client-secret-1234"
	for _, tc := range []struct{ instance, says string }{
		{"http://acme.example.org", "Plain http is refused"},
		{"acme corp", "not an instance name"},
		{"https://169.254.169.254", "link-local"},
	} {
		r := b.postForm(t, "/connections", url.Values{"instance": {tc.instance}, "clientId": {"cid"}, "clientSecret": {typedSecret}}).wantStatus(t, http.StatusBadRequest)
		r.wantContains(t, tc.says, `value="cid"`)
		r.wantNotContains(t, typedSecret)
	}
	e := b.sendJSON(t, http.MethodPost, "/api/v1/connections", `{"instance":"http://acme.example.org","clientId":"cid","clientSecret":"s"}`).
		wantStatus(t, http.StatusBadRequest).apiError(t)
	if e.Field != "instance" || !strings.Contains(e.Message, "Plain http") {
		t.Fatalf("API refusal = %+v", e)
	}
	b.sendJSON(t, http.MethodPost, "/api/v1/connections", `{"instance":"acme","clientId":"cid","clientSecret":"s","extra":"x"}`).wantStatus(t, http.StatusBadRequest)
	b.get(t, "/api/v1/connections").wantStatus(t, http.StatusOK).wantContains(t, `"items":[]`)
	b.get(t, "/connections/callback?state=&code=x").wantStatus(t, http.StatusBadRequest).wantContains(t, "no state")
	b.get(t, "/api/v1/connections/nope").wantStatus(t, http.StatusNotFound)

	// A created connection's API answer holds no secret.
	r := b.sendJSON(t, http.MethodPost, "/api/v1/connections", `{"instance":"acme","clientId":"cid","clientSecret":"`+typedSecret+`"}`).wantStatus(t, http.StatusCreated)
	r.wantContains(t, `"status":"pending"`, `"instanceUrl":"https://acme.service-now.com"`)
	r.wantNotContains(t, typedSecret)
	b.sendJSON(t, http.MethodPost, "/api/v1/connections", `{"instance":"acme","clientId":"cid","clientSecret":"other"}`).wantStatus(t, http.StatusConflict)
}

// TestConnectionAPIChecklist: the checklist over the API answers every
// step, 422 when one failed, and never echoes the admin password.
func TestConnectionAPIChecklist(t *testing.T) {
	t.Parallel()
	b := connectionSetup(t)
	r := b.sendJSON(t, http.MethodPost, "/api/v1/connections/checklist",
		`{"instance":"`+b.simURL+`","adminUser":"admin","adminPassword":"not-the-admin-password"}`).wantStatus(t, http.StatusUnprocessableEntity)
	var res struct {
		Checks     []scorebridge.Check  `json:"checks"`
		Connection *struct{ ID string } `json:"connection"`
	}
	r.decode(t, &res)
	if len(res.Checks) != 1 || res.Checks[0].OK || res.Checks[0].Fix == "" || res.Connection != nil {
		t.Fatalf("checklist with a wrong admin password: %s", r.body)
	}
	r.wantNotContains(t, "not-the-admin-password")
	if strings.Contains(b.logs.String(), "not-the-admin-password") {
		t.Fatal("the admin password reached the logs")
	}

	r = b.sendJSON(t, http.MethodPost, "/api/v1/connections/checklist", `{"instance":"`+b.simURL+`","adminUser":"admin","adminPassword":"admin"}`).wantStatus(t, http.StatusOK)
	r.decode(t, &res)
	if res.Connection == nil || len(res.Checks) < 5 {
		t.Fatalf("checklist: %s", r.body)
	}
	r.wantContains(t, `"integrationPassword":"`)
	// Again: the integration user exists now, and the checklist asks
	// before giving it a new password; resetPassword confirms.
	again := `{"instance":"` + b.simURL + `","adminUser":"admin","adminPassword":"admin"`
	r = b.sendJSON(t, http.MethodPost, "/api/v1/connections/checklist", again+`}`).wantStatus(t, http.StatusUnprocessableEntity)
	r.wantContains(t, "already exists on the instance", "resetPassword")
	r.wantNotContains(t, `"integrationPassword"`)
	b.sendJSON(t, http.MethodPost, "/api/v1/connections/checklist", again+`,"resetPassword":"yes"}`).wantStatus(t, http.StatusBadRequest).
		wantContains(t, "resetPassword must be true or false")
	b.sendJSON(t, http.MethodPost, "/api/v1/connections/checklist", again+`,"resetPassword":true}`).wantStatus(t, http.StatusOK).
		wantContains(t, `"integrationPassword":"`)
	r = b.keep(b.sendJSON(t, http.MethodPost, "/api/v1/connections/"+res.Connection.ID+"/authorize", `{}`).wantStatus(t, http.StatusOK))
	r.wantContains(t, `"authorizeUrl":"`+b.simURL+`/oauth_auth.do?`)
	b.sendJSON(t, http.MethodPost, "/api/v1/connections/"+res.Connection.ID+"/default", `{}`).wantStatus(t, http.StatusOK).wantContains(t, `"isDefault":true`)
	b.do(t, http.MethodDelete, "/api/v1/connections/"+res.Connection.ID, "", "").wantStatus(t, http.StatusNoContent)
	b.do(t, http.MethodDelete, "/api/v1/connections/"+res.Connection.ID, "", "").wantStatus(t, http.StatusNotFound)
}

// TestConnectionRoutesNeedAdmin: a reader sees the status but cannot
// connect, authorize, remove or run the doctor.
func TestConnectionRoutesNeedAdmin(t *testing.T) {
	t.Parallel()
	b := connectionSetupAs(t, &scorebridge.User{ID: "r", Name: "reader", Role: scorebridge.RoleReader})
	b.get(t, "/connections").wantStatus(t, http.StatusOK).wantNotContains(t, `href="/connections/new"`)
	b.get(t, "/api/v1/connections").wantStatus(t, http.StatusOK)
	b.get(t, "/connections/new").wantStatus(t, http.StatusForbidden)
	b.postForm(t, "/connections", url.Values{"instance": {"acme"}, "clientId": {"x"}, "clientSecret": {"y"}}).wantStatus(t, http.StatusForbidden)
	b.sendJSON(t, http.MethodPost, "/api/v1/connections", `{"instance":"acme","clientId":"x","clientSecret":"y"}`).wantStatus(t, http.StatusForbidden)
	b.get(t, "/ticketProvisioning").wantStatus(t, http.StatusForbidden)
	b.get(t, "/connections/callback?state=x&code=y").wantStatus(t, http.StatusForbidden)
	b.get(t, "/api/v1/connections/x/doctor").wantStatus(t, http.StatusForbidden)
}
