package rules_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/rules"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// simInstances is the InstanceSource over one simulator, signed in with
// Basic auth as the admin: the domain-interface stand-in for a connection.
type simInstances struct{ url string }

func (s simInstances) ConnectedInstance(context.Context, string) (*scorebridge.ConnectedInstance, error) {
	return &scorebridge.ConnectedInstance{ConnectionID: "test", BaseURL: s.url, HTTPClient: &http.Client{Transport: basicAuth{}}}, nil
}

type basicAuth struct{}

func (basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth("admin", "admin")
	return http.DefaultTransport.RoundTrip(r)
}

// bundle is one test's center: a simulator over HTTP, a database, the
// job runner sending tickets, the posture importer and the rules engine.
type bundle struct {
	sim    *snowsim.Instance
	db     *sqlstore.DB
	runner *jobs.Runner
	engine *rules.Engine
	im     *posture.Importer
	ctx    context.Context
}

// backends runs f on SQLite and, with SCOREBRIDGE_TEST_POSTGRES, on
// PostgreSQL.
func backends(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); f(t, filepath.Join(t.TempDir(), "scorebridge.db")) })
	if url := dbtest.PostgresURL(); url != "" {
		t.Run("postgres", func(t *testing.T) { t.Parallel(); f(t, dbtest.PostgresSchema(t, url, "rules")) })
	}
}

func setup(t testing.TB, dsn string) *bundle { return setupRunner(t, dsn, true) }

// setupRunner is setup with the job runner started or not (a benchmark
// measures queueing alone).
func setupRunner(t testing.TB, dsn string, start bool) *bundle {
	t.Helper()
	sim, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { sim.Close() })
	ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "u-1", Name: "alice", Role: scorebridge.RoleAdmin})
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	sla := sqlstore.NewSLAStore(db)
	engine := &rules.Engine{Store: sqlstore.NewRuleStore(db), SLA: sla, Logger: logger}
	runner, err := jobs.New(ctx, jobs.Config{
		DB: db, Instances: simInstances{srv.URL}, Recommendations: sqlstore.NewRecommendationService(db), Logger: logger,
		CenterURL: "https://center.example", RequestsPerSecond: -1, MaxBackoff: 200 * time.Millisecond,
		SLA: sla, RunRules: engine.RunEnabled,
	})
	if err != nil {
		t.Fatal(err)
	}
	engine.Enqueue = runner.EnqueueTickets
	if start {
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(stopCtx)
	})
	return &bundle{sim: sim, db: db, runner: runner, engine: engine, im: &posture.Importer{Store: sqlstore.NewPostureStore(db, nil), Logger: logger}, ctx: ctx}
}

// importGraph imports a Graph export of n controls as of day (0, 1, ...):
// control i has 1 + i%10 points and (7i + day) % 101 percent of them.
func (b *bundle) importGraph(t testing.TB, n, day int) *scorebridge.Import {
	t.Helper()
	imp, err := b.im.ImportFile(b.ctx, "graph.json", graphExport(n, day), "upload")
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func graphExport(n, day int) []byte {
	var b bytes.Buffer
	cats := []string{"Identity", "Data", "Device", "Apps", "Infrastructure"}
	b.WriteString(`{"secureScoreControlProfiles":{"value":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"Control%05d","azureTenantId":"rules-tenant","title":"Control number %d","controlCategory":%q,"actionType":"Config","service":"AzureAD","tier":"Core","maxScore":%d,"remediation":"<p>Do <b>%d</b>.</p>","controlStateUpdates":[]}`,
			i, i, cats[i%5], 1+i%10, i)
	}
	at := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	var cur, max float64
	var cs bytes.Buffer
	for i := 0; i < n; i++ {
		m := float64(1 + i%10)
		pct := float64((i*7 + day) % 101)
		cur += m * pct / 100
		max += m
		if i > 0 {
			cs.WriteByte(',')
		}
		fmt.Fprintf(&cs, `{"controlName":"Control%05d","controlCategory":%q,"score":%g,"scoreInPercentage":%g,"count":"%d","total":"100","on":"true"}`, i, cats[i%5], m*pct/100, pct, int(pct))
	}
	fmt.Fprintf(&b, `]},"secureScores":{"value":[{"id":"rules-tenant_%s","azureTenantId":"rules-tenant","createdDateTime":%q,"currentScore":%g,"maxScore":%g,"controlScores":[%s]}]}}`,
		at.Format("2006-01-02"), at.Format(time.RFC3339), cur, max, cs.String())
	return b.Bytes()
}

// waitSent waits until every ticket left the queue, looking again each
// time River reports a job attempt ended.
func (b *bundle) waitSent(t testing.TB, ids []string) []*scorebridge.Ticket {
	t.Helper()
	events, stop := b.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
	defer stop()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for {
		var out []*scorebridge.Ticket
		for _, id := range ids {
			tk, err := b.runner.Tickets().FindTicketByID(b.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Status == scorebridge.TicketQueued {
				break
			}
			out = append(out, tk)
		}
		if len(out) == len(ids) {
			return out
		}
		select {
		case <-events:
		case <-timeout.C:
			t.Fatalf("%d of %d tickets sent after 60s", len(out), len(ids))
		}
	}
}

// ruleTickets counts the tickets rules made.
func (b *bundle) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	q := query
	if b.db.Dialect == sqlstore.DialectPostgres {
		for i := 1; bytes.ContainsRune([]byte(q), '?'); i++ {
			q = string(bytes.Replace([]byte(q), []byte("?"), []byte(fmt.Sprintf("$%d", i)), 1))
		}
	}
	if err := b.db.SQL.QueryRowContext(b.ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
