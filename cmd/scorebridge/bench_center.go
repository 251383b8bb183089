package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// benchSim is one simulated instance with a clock the bench moves ahead of
// real time (so the sync's overlap window does not re-read what was just
// written; the clock still runs, and with it the rate limit's refill) and a
// count of the REST calls it answered.
type benchSim struct {
	sim   *snowsim.Instance
	srv   *http.Server
	url   string
	calls atomic.Int64

	mu    sync.Mutex
	ahead time.Duration
}

func (s *benchSim) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().UTC().Add(s.ahead)
}

func (s *benchSim) advance(d time.Duration) { s.mu.Lock(); s.ahead += d; s.mu.Unlock() }

func (s *benchSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.sim.ServeHTTP(w, r)
}

const (
	benchAdminPassword       = "bench-admin-Pw-7"
	benchIntegrationPassword = "bench-integration-Pw-7"
)

func startBenchSim(logger *slog.Logger) (*benchSim, error) {
	s := &benchSim{}
	sim, err := snowsim.New(snowsim.Options{AdminPassword: benchAdminPassword, Clock: s.clock})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sim.Close()
		return nil, err
	}
	s.sim, s.url = sim, "http://"+ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *benchSim) close() {
	s.srv.Close()
	s.sim.Close()
}

// staticReference serves, beside the center's pages on the same server, a
// body of the size of the page being measured: what serving those bytes
// costs with no work behind them.
type staticReference struct {
	next http.Handler
	body atomic.Pointer[[]byte]
}

const staticPath = "/bench/static"

func (s *staticReference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != staticPath {
		s.next.ServeHTTP(w, r)
		return
	}
	b := *s.body.Load()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Write(b)
}

func (s *staticReference) setSize(n int) {
	b := make([]byte, n)
	for i := range b {
		b[i] = "<p>scorebridge static reference</p>\n"[i%36]
	}
	s.body.Store(&b)
}

// benchBackend builds a center on dsn, fills it, and prints every figure.
func benchBackend(ctx context.Context, name, dsn string, size benchSize, logger *slog.Logger, out io.Writer) error {
	resetPeakRSS()
	began := time.Now()
	var sims []*benchSim
	defer func() {
		for _, s := range sims {
			s.close()
		}
	}()
	for range size.instances {
		s, err := startBenchSim(logger)
		if err != nil {
			return fmt.Errorf("start a simulator: %w", err)
		}
		sims = append(sims, s)
	}
	cfg := centerConfig{Addr: "127.0.0.1:0", DB: dsn, LogFormat: "text", ShutdownGrace: 5 * time.Second}
	cfg.Tickets.RequestsPerSecond = size.rate
	cfg.Connections.AllowPrivate = true
	cfg.Connections.secretKey = benchKey()
	var buildEachTime atomic.Bool
	cfg.keepViews = func() bool { return !buildEachTime.Load() }
	c, err := openCenter(ctx, cfg, logger)
	if err != nil {
		return err
	}
	static := &staticReference{next: c.srv.Handler}
	static.setSize(1)
	c.srv.Handler = static
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()

	admin := scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "bench", Name: "bench", Role: scorebridge.RoleAdmin})
	var conns []*scorebridge.Connection
	for _, s := range sims {
		conn, err := c.connectSimulator(admin, s.url, benchAdminPassword, benchIntegrationPassword)
		if err != nil {
			return fmt.Errorf("connect to the simulator: %w", err)
		}
		conns = append(conns, conn)
	}
	token, err := c.auth.tokens.CreateAPIToken(ctx, &scorebridge.APIToken{Name: "bench", Role: scorebridge.RoleAdmin})
	if err != nil {
		return err
	}
	lg := newLoadGen(c.URL(), token, size.clients)

	// Build: the tickets once, the actions up to each size in turn.
	generated, err := fillActions(admin, c, size.actions[0])
	if err != nil {
		return err
	}
	if generated == 0 {
		return fmt.Errorf("the built-in catalog alone holds %d actions or more: give a larger --actions", size.actions[0])
	}
	tracked, err := fillTickets(ctx, c, sims, conns, size, generated)
	if err != nil {
		return err
	}
	if err := analyzeAfterBuild(ctx, c); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s: %d tickets and %d actions built in %s\n", name, size.tickets, size.actions[0], time.Since(began).Round(time.Millisecond))

	if err := benchSync(ctx, c, sims[0], conns[0], tracked, size, out); err != nil {
		return err
	}
	if err := benchCreate(ctx, c, lg, sims[1], conns[1], size, generated, out); err != nil {
		return err
	}
	if size.profile != nil && !profiling {
		// One profile of the first back end's page measures.
		if err := pprof.StartCPUProfile(size.profile); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		profiling = true
		defer pprof.StopCPUProfile()
	}
	for i, n := range size.actions {
		if i > 0 {
			t := time.Now()
			if _, err := fillActions(admin, c, n); err != nil {
				return err
			}
			if err := analyzeAfterBuild(ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d actions built in %s\n", name, n, time.Since(t).Round(time.Millisecond))
		}
		for _, p := range []struct{ label, path string }{
			{"home page", "/"},
			{"tickets page", "/tickets"},
			{"API (actions, 50)", "/api/v1/recommendations?limit=50"},
		} {
			// Kept: as served while nothing changes. Built: as after
			// every change, with no kept view to answer from.
			for _, built := range []bool{false, true} {
				buildEachTime.Store(built)
				line, err := lg.compare(ctx, static, p.path, size.requests)
				if err != nil {
					return fmt.Errorf("%s: %w", p.label, err)
				}
				how := "kept"
				if built {
					how = "built each time"
				}
				fmt.Fprintf(out, "  %s (%s), %d actions, %d tickets: %s\n", p.label, how, n, size.tickets, line)
			}
			buildEachTime.Store(false)
		}
	}
	if rss, err := peakRSS(); err == nil {
		fmt.Fprintf(out, "  peak RSS (VmHWM, the bench process with the center, its simulators and clients): %.1f MB (bound 150 MB)\n", float64(rss)/1e6)
	} else {
		fmt.Fprintf(out, "  peak RSS: not readable here: %v (bound 150 MB)\n", err)
	}
	return nil
}

// profiling is set once the CPU profile has started.
var profiling bool

// benchRetiredConnection is the connection of the tickets no simulator
// holds: one removed since.
const benchRetiredConnection = "bench-retired"

// benchActionPrefix names the generated actions.
const benchActionPrefix = "bench-"

// analyzeAfterBuild gives PostgreSQL's planner the statistics of the
// tables just filled, as autovacuum would within a minute of a bulk load.
// Measured at once, the planner still thinks them empty and, for one, scans
// all 50,000 actions for the ones not counting towards the score: 374 ms a
// home page against 0.6 ms after ANALYZE. SQLite plans from its indexes
// alone.
func analyzeAfterBuild(ctx context.Context, c *center) error {
	if c.db.Dialect != sqlstore.DialectPostgres {
		return nil
	}
	if _, err := c.db.SQL.ExecContext(ctx, `ANALYZE recommendations, tickets, ticket_recommendations`); err != nil {
		return fmt.Errorf("analyze the built tables: %w", err)
	}
	return nil
}

// fillActions adds generated actions until the center holds n, in
// transactions of 5,000, and returns how many generated ones it holds.
func fillActions(ctx context.Context, c *center, n int) (int, error) {
	var have, generated int
	if err := c.db.SQL.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN id LIKE 'bench-%' THEN 1 END) FROM recommendations`).Scan(&have, &generated); err != nil {
		return 0, fmt.Errorf("count actions: %w", err)
	}
	for have < n {
		batch := make([]*scorebridge.Recommendation, 0, min(5000, n-have))
		for i := generated; len(batch) < cap(batch); i++ {
			batch = append(batch, &scorebridge.Recommendation{
				ID:           fmt.Sprintf("%s%06d", benchActionPrefix, i),
				Title:        fmt.Sprintf("Generated improvement action %d", i),
				Description:  "An action generated by scorebridge bench.",
				Remediation:  "<p>Follow the <a href=\"https://example.com/doc\">guide</a>.</p>",
				Category:     scorebridge.Categories[i%len(scorebridge.Categories)],
				Source:       scorebridge.SourceMicrosoft,
				SourceTool:   scorebridge.ToolGraph,
				Service:      "Service",
				Threats:      []string{"Account breach"},
				MaxScore:     float64(1 + i%10),
				CurrentScore: float64(i%3) / 2,
				State:        scorebridge.States[i%len(scorebridge.States)],
			})
		}
		added, err := c.recs.SeedRecommendations(ctx, batch)
		if err != nil {
			return 0, fmt.Errorf("build actions: %w", err)
		}
		if added == 0 {
			return 0, errors.New("build actions: none added")
		}
		have += added
		generated += added
	}
	return generated, nil
}

// fillTickets stores size.tickets sent tickets, in transactions of 5,000:
// size.tracked on each connected instance, which holds their records, and
// the rest on an instance no longer connected (benchRetiredConnection), so
// that the syncs, which visit only connected instances, are not looking
// for records the simulators never had. It returns the sys_ids of the
// first instance's.
func fillTickets(ctx context.Context, c *center, sims []*benchSim, conns []*scorebridge.Connection, size benchSize, actions int) ([]string, error) {
	store := sqlstore.NewTicketStore(c.db)
	var tracked []string
	perInstance := make([]int, len(sims))
	base := time.Now().UTC().Add(-time.Duration(size.tickets) * time.Second)
	for start := 0; start < size.tickets; start += 5000 {
		var batch []*scorebridge.Ticket
		for i := start; i < min(start+5000, size.tickets); i++ {
			inst := i % len(sims)
			connID := benchRetiredConnection
			// The instance ticket creation is measured on (the second)
			// tracks none: its syncs, which are not paced with the
			// tickets, then cost a call or two, not a share of its limit.
			if inst == 1 {
				inst = 0
			}
			if perInstance[inst] < size.tracked {
				connID = conns[inst].ID
			}
			t := &scorebridge.Ticket{
				ID:                newBenchID(),
				RecommendationIDs: []string{fmt.Sprintf("%s%06d", benchActionPrefix, i%actions)},
				Type:              scorebridge.TicketIncident,
				ConnectionID:      connID,
				Name:              fmt.Sprintf("Generated ticket %d", i),
				Priority:          1 + i%4,
				RequestedBy:       "bench",
				State:             "1",
				StateName:         "New",
				CreatedAt:         base.Add(time.Duration(i) * time.Second),
			}
			if perInstance[inst] < size.tracked {
				rec, err := sims[inst].sim.Insert("incident", map[string]string{"short_description": t.Name,
					"correlation_id": t.ID, "correlation_display": "scorebridge", "state": "1"})
				if err != nil {
					return nil, fmt.Errorf("build tracked tickets: %w", err)
				}
				t.SysID, t.Number = rec["sys_id"], rec["number"]
				if inst == 0 {
					tracked = append(tracked, t.SysID)
				}
			} else {
				t.SysID, t.Number = newBenchID(), fmt.Sprintf("INC%07d", 1000000+i)
			}
			perInstance[inst]++
			batch = append(batch, t)
		}
		if err := store.InsertSentTickets(ctx, batch); err != nil {
			return nil, fmt.Errorf("build tickets: %w", err)
		}
	}
	return tracked, nil
}

func newBenchID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// benchSync syncs the first instance once (everything it tracks), changes
// size.changes records and prints the calls of the next sync beside the
// least, ceil(k/page)+1.
func benchSync(ctx context.Context, c *center, s *benchSim, conn *scorebridge.Connection, tracked []string, size benchSize, out io.Writer) error {
	s.advance(10 * time.Minute)
	if _, err := c.tracking.SyncConnection(ctx, conn.ID); err != nil {
		return fmt.Errorf("first sync: %w", err)
	}
	s.advance(10 * time.Minute)
	k := min(size.changes, len(tracked))
	for i := range k {
		if _, err := s.sim.Update("incident", tracked[i*len(tracked)/k], map[string]string{"state": "2"}); err != nil {
			return err
		}
	}
	before := s.calls.Load()
	t := time.Now()
	res, err := c.tracking.SyncConnection(ctx, conn.ID)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	fmt.Fprintf(out, "  sync: %d changes among %d tracked tickets of %d: %d ServiceNow calls (%d answered by the instance) in %s (least ceil(k/page)+1 = %d, page %d)\n",
		k, len(tracked), size.tickets, res.Calls, s.calls.Load()-before, time.Since(t).Round(time.Millisecond),
		tracking.MinCalls(k, tracking.DefaultPageSize), tracking.DefaultPageSize)
	return nil
}

// benchCreate shares size.share tickets to an instance limited to
// size.rate requests a second, size.shareRuns times, and prints each run's
// time against the bound the limit sets (one create per ticket).
func benchCreate(ctx context.Context, c *center, lg *loadGen, s *benchSim, conn *scorebridge.Connection, size benchSize, actions int, out io.Writer) error {
	if err := s.sim.SetRateLimitPerSecond(size.rate); err != nil {
		return err
	}
	bound := time.Duration(float64(size.share) / size.rate * float64(time.Second))
	for run := range size.shareRuns {
		t := time.Now()
		for i := range size.share {
			body := map[string]any{"recommendationId": fmt.Sprintf("%s%06d", benchActionPrefix, (run*size.share+i)%actions),
				"type": "incident", "name": fmt.Sprintf("Bench share %d.%d", run, i), "priority": 3, "connectionId": conn.ID}
			if err := lg.post(ctx, "/api/v1/tickets", body, http.StatusAccepted); err != nil {
				return fmt.Errorf("share: %w", err)
			}
		}
		// Done when none is queued: the same figure the tickets page shows.
		deadline := t.Add(time.Minute + 10*bound)
		for {
			queued, err := lg.count(ctx, "/api/v1/tickets?status=queued&limit=1")
			if err != nil {
				return err
			}
			if queued == 0 {
				break
			}
			if time.Now().After(deadline) {
				// Said, not fatal: the other figures are still worth having.
				fmt.Fprintf(out, "  ticket creation, run %d: tickets still queued after %s against the rate-limit bound %s: NOT FINISHED\n",
					run+1, time.Since(t).Round(time.Second), bound.Round(time.Millisecond))
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		d := time.Since(t)
		fmt.Fprintf(out, "  ticket creation, run %d: %d tickets in %s against the rate-limit bound %s (%d at the instance's %g/s): ratio %.2f\n",
			run+1, size.share, d.Round(time.Millisecond), bound.Round(time.Millisecond), size.share, size.rate, float64(d)/float64(bound))
	}
	return nil
}
