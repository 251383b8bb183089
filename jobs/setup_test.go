package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// basicAuth authenticates every request as one simulator user.
type basicAuth struct {
	user, password string
	base           http.RoundTripper
}

func (b *basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.password)
	return b.base.RoundTrip(r)
}

// testInstances is an InstanceSource over one simulator with Basic auth:
// the domain-interface stand-in for a connection. Err, when set, is what
// ConnectedInstance answers instead.
type testInstances struct {
	url string

	mu       sync.Mutex
	user     string
	password string
	err      error
}

func (s *testInstances) ConnectedInstance(ctx context.Context, id string) (*scorebridge.ConnectedInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return &scorebridge.ConnectedInstance{
		ConnectionID: "test",
		BaseURL:      s.url,
		HTTPClient:   &http.Client{Transport: &basicAuth{user: s.user, password: s.password, base: http.DefaultTransport}},
	}, nil
}

func (s *testInstances) set(user, password string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.password, s.err = user, password, err
}

// bundle is one test's world: a simulator, a database with two actions,
// and a running job runner.
type bundle struct {
	sim       *snowsim.Instance
	faults    *injected
	instances *testInstances
	db        *sqlstore.DB
	recs      scorebridge.RecommendationService
	runner    *jobs.Runner
	tickets   scorebridge.TicketService
	ctx       context.Context
	// cfg is the runner's configuration, for a test that starts another
	// runner on the same database (a restart, a second replica).
	cfg jobs.Config
	dsn string
}

type setupOpts struct {
	dsn    string // default: a SQLite file in t.TempDir()
	config func(*jobs.Config)
	// noStart leaves the runner stopped; the test starts it.
	noStart bool
}

func setup(t testing.TB, opts setupOpts) *bundle {
	t.Helper()
	sim, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	faults := &injected{}
	srv := httptest.NewServer(faults.wrap(sim))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { sim.Close() })

	ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "u-42", Name: "alice", Role: scorebridge.RoleAdmin})
	dsn := opts.dsn
	if dsn == "" {
		dsn = filepath.Join(t.TempDir(), "scorebridge.db")
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	recs := sqlstore.NewRecommendationService(db)
	for _, r := range testActions() {
		if err := recs.CreateRecommendation(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	instances := &testInstances{url: srv.URL, user: "admin", password: "admin"}
	cfg := jobs.Config{
		DB:                db,
		Instances:         instances,
		Recommendations:   recs,
		Logger:            testLogger(),
		CenterURL:         "https://center.example",
		AuthorizationWait: 100 * time.Millisecond,
		MaxBackoff:        200 * time.Millisecond,
		RequestsPerSecond: -1,
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	runner, err := jobs.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !opts.noStart {
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := runner.Stop(stopCtx); err != nil {
			t.Errorf("stop runner: %v", err)
		}
	})
	return &bundle{sim: sim, faults: faults, instances: instances, db: db, recs: recs, runner: runner, tickets: runner.Tickets(), ctx: ctx, cfg: cfg, dsn: dsn}
}

// replica starts another runner on the bundle's database, through a
// database handle of its own as another process would have, with the
// bundle's configuration changed by config. It stops when the test ends.
func (b *bundle) replica(t testing.TB, config func(*jobs.Config)) *jobs.Runner {
	t.Helper()
	db, err := sqlstore.Open(b.ctx, b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := b.cfg
	cfg.DB = db
	cfg.Recommendations = sqlstore.NewRecommendationService(db)
	if config != nil {
		config(&cfg)
	}
	r, err := jobs.New(b.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
	return r
}

func testLogger() *slog.Logger {
	if os.Getenv("SCOREBRIDGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testActions() []*scorebridge.Recommendation {
	return []*scorebridge.Recommendation{
		{
			ID: "mfa-admins", Title: "Require MFA for administrative roles", Description: "Admins sign in with a password only.",
			Remediation: "<p>Open <b>Conditional Access</b> &amp; create a policy.</p><ul><li>Include admin roles</li><li>Grant: require MFA</li></ul>",
			Category:    scorebridge.CategoryIdentity, Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser,
			MaxScore: 10, State: scorebridge.StateToAddress,
		},
		{
			ID: "bitlocker", Title: "Encrypt device disks with BitLocker", Description: "Laptops are not encrypted.",
			Remediation: "<p>Turn on BitLocker in Intune.</p>",
			Category:    scorebridge.CategoryDevices, Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser,
			MaxScore: 5, State: scorebridge.StateToAddress,
		},
	}
}

// waitTicket waits until done holds for the ticket (by default: it left
// the queue) and returns it. It looks again each time River reports that a
// job attempt ended, never on a timer.
func (b *bundle) waitTicket(t testing.TB, id string, done func(*scorebridge.Ticket) bool) *scorebridge.Ticket {
	t.Helper()
	return b.waitTicketFor(t, id, done, 30*time.Second)
}

// waitTicketFor is waitTicket giving up after limit.
func (b *bundle) waitTicketFor(t testing.TB, id string, done func(*scorebridge.Ticket) bool, limit time.Duration) *scorebridge.Ticket {
	t.Helper()
	if done == nil {
		done = func(tk *scorebridge.Ticket) bool { return tk.Status != scorebridge.TicketQueued }
	}
	// Subscribed before the first look, so no attempt ends unseen between
	// the look and the wait.
	events, stop := b.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	defer stop()
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for {
		tk, err := b.tickets.FindTicketByID(b.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if done(tk) {
			return tk
		}
		select {
		case <-events: // an attempt ended: look again
		case <-timeout.C:
			t.Fatalf("ticket %s still %s (%s) after %s", id, tk.Status, tk.Error, limit)
		}
	}
}

// records returns the simulator's records of table made for ticket id.
func (b *bundle) records(t testing.TB, table, id string) []snowsim.Record {
	t.Helper()
	recs, err := b.sim.Query(table, "correlation_id="+id)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func dueDate() string { return time.Now().UTC().AddDate(0, 1, 0).Format(scorebridge.DueDateLayout) }

// injected answers the next few creates with a given error instead of the
// simulator, so a test controls exactly which attempt fails and how.
type injected struct {
	mu         sync.Mutex
	n          int    // creates still to refuse
	status     int    // the status they get
	retryAfter string // their Retry-After header, if any
	// held, when set, hears of each create as it arrives, and the create
	// is answered only once release is closed.
	held    chan<- struct{}
	release <-chan struct{}
}

// holdCreates makes every create wait until the returned release is
// called; arrived hears of each one as it starts waiting.
func (f *injected) holdCreates() (arrived <-chan struct{}, release func()) {
	a, r := make(chan struct{}, 100), make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held, f.release = a, r
	return a, sync.OnceFunc(func() { close(r) })
}

func (f *injected) failCreates(n, status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n, f.status, f.retryAfter = n, status, retryAfter
}

func (f *injected) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fail := r.Method == http.MethodPost && f.n > 0
		if fail {
			f.n--
		}
		status, retryAfter := f.status, f.retryAfter
		held, release := f.held, f.release
		f.mu.Unlock()
		if held != nil && r.Method == http.MethodPost && !fail {
			held <- struct{}{}
			<-release
		}
		if !fail {
			next.ServeHTTP(w, r)
			return
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"Transaction failed","detail":null},"status":"failure"}`)
	})
}
