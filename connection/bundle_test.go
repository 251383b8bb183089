package connection_test

import (
	"bytes"
	"context"
	"github.com/scorebridge/scorebridge/snowsim/consent"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// redirectURL is the center's callback in these tests. The instance only
// compares it as a string and redirects the browser there; the tests take
// the code and state from that redirect and complete the authorization.
const redirectURL = "http://127.0.0.1:8080/connections/callback"

// syncBuffer is a log sink safe for the service's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bundle is a simulator over real HTTP and a connection service on a real
// SQLite database.
type bundle struct {
	sim     *snowsim.Instance
	srv     *httptest.Server
	svc     *connection.Service
	store   *sqlstore.ConnectionStore
	dbPath  string
	db      *sqlstore.DB
	clock   *clocktest.Clock // shared by the simulator, the service and the database, so tests make tokens expire
	logs    *syncBuffer
	tokenN  atomic.Int64 // POSTs to /oauth_token.do
	skew    atomic.Int64 // added to the instance's clock, ns
	httpOpt servicenow.HTTPOptions
}

func setup(t testing.TB) *bundle {
	t.Helper()
	b := &bundle{clock: clocktest.New(time.Now().UTC().Truncate(time.Second)), logs: &syncBuffer{}}
	// The instance's clock is the center's plus a skew a test may set.
	sim, err := snowsim.New(snowsim.Options{Clock: func() time.Time { return b.clock.Now().Add(time.Duration(b.skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	b.sim = sim
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == servicenow.TokenPath {
			b.tokenN.Add(1)
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)

	b.dbPath = filepath.Join(t.TempDir(), "scorebridge.db")
	db, err := sqlstore.Open(context.Background(), b.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = b.clock.Now
	b.db = db
	box, _, err := secret.LoadKey(func(string) string { return "" }, b.dbPath+".key")
	if err != nil {
		t.Fatal(err)
	}
	b.store = sqlstore.NewConnectionStore(db, box)
	b.httpOpt = servicenow.HTTPOptions{AllowPrivate: true}
	b.svc, err = connection.New(connection.Config{
		Store:       b.store,
		RedirectURL: redirectURL,
		HTTP:        b.httpOpt,
		Logger:      slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         b.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checklist runs the installation checklist as the simulator's admin and
// returns the pending connection and the integration user's password. A
// run after the first confirms that the existing integration user gets a
// new password.
func (b *bundle) checklist(t testing.TB) (*scorebridge.Connection, string) {
	t.Helper()
	existing, _ := b.sim.Query("sys_user", "user_name="+connection.DefaultIntegrationUser)
	res, err := b.svc.RunChecklist(context.Background(), scorebridge.ChecklistInput{Instance: b.srv.URL, AdminUser: "admin", AdminPassword: "admin", ResetPassword: len(existing) > 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if !c.OK {
			t.Fatalf("checklist step %q failed: %s (fix: %s)", c.Name, c.Message, c.Fix)
		}
	}
	if res.Connection == nil || res.IntegrationPassword == "" {
		t.Fatalf("checklist result = %+v", res)
	}
	return res.Connection, res.IntegrationPassword
}

// testBinding stands for the browser session of the admin who starts and
// completes the tests' authorizations.
const testBinding = "session-of-the-admin"

// consent does what the integration user does in a browser and returns the
// callback's query.
func (b *bundle) consent(t testing.TB, id, user, password string) url.Values {
	t.Helper()
	u, err := b.svc.AuthorizeURL(context.Background(), id, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := consent.AllowAs(context.Background(), servicenow.NewHTTPClient(b.httpOpt), u, user, password)
	if err != nil {
		t.Fatalf("consent as %s: %v", user, err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != redirectURL {
		t.Fatalf("the instance redirected to %s, want the callback %s", cb, redirectURL)
	}
	return cb.Query()
}

// authorize runs the whole authorization as user.
func (b *bundle) authorize(t testing.TB, id, user, password string) *scorebridge.Connection {
	t.Helper()
	q := b.consent(t, id, user, password)
	c, err := b.svc.CompleteAuthorization(context.Background(), []string{testBinding}, q.Get("state"), q.Get("code"), q.Get("error"))
	if err != nil {
		t.Fatalf("complete authorization: %v", err)
	}
	return c
}

// connected is the usual start: checklist, then authorization as the
// integration user.
func (b *bundle) connected(t testing.TB) (*scorebridge.Connection, string) {
	t.Helper()
	c, pw := b.checklist(t)
	return b.authorize(t, c.ID, connection.DefaultIntegrationUser, pw), pw
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := scorebridge.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}
