package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/catalog"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// When serving fails, Run stops everything it started (the jobs, the HTTP
// server) and closes the database only after: it returns the failure, the
// database is closed, and the SQLite file is free for the next start.
func TestServeFailureStopsEverything(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	c, err := openCenter(context.Background(), centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The listener gone: Serve fails at once.
	c.ln.Close()
	err = c.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "serve HTTP") {
		t.Fatalf("Run = %v, want the serve failure", err)
	}
	if err := c.db.SQL.Ping(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("database after a failed Serve: ping = %v, want it closed", err)
	}
	// The runner stopped with it: stopping again has nothing to wait for.
	if err := c.jobs.Stop(context.Background()); err != nil {
		t.Fatalf("jobs after a failed Serve: %v", err)
	}
	startCenter(t, dbPath)
}

// Asked to stop mid-bulk (SIGTERM ends the run context), the center
// drains its requests and lets the running ticket jobs finish within the
// grace: every job that was running ends sent, none records an error, and
// the database closes after.
func TestStopMidBulkLetsRunningJobsFinish(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	ctx, signal := context.WithCancel(context.Background())
	defer signal()
	cfg := centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}
	cfg.Connections.AllowPrivate = true
	// A grace no job needs on a quiet machine (each takes at most 3 s), so
	// that a loaded one (the race detector, other packages' tests) does not
	// cut the running jobs short and fail for the wrong reason.
	cfg.ShutdownGrace = time.Minute
	d, err := startDemo(ctx, cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// Every create takes 1 to 3 s: when the first ticket is sent, the
	// others are still on their way.
	if err := d.sim.SetFaults(snowsim.Faults{Latency: time.Second, Jitter: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	completed, stop := d.center.jobs.Subscribe(river.EventKindJobCompleted)
	defer stop()
	user := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "u-1", Name: "ana", Role: scorebridge.RoleAdmin})
	recs, err := catalog.Recommendations()
	if err != nil {
		t.Fatal(err)
	}
	var reqs []*scorebridge.TicketRequest
	for i := range 8 {
		reqs = append(reqs, &scorebridge.TicketRequest{RecommendationIDs: []string{recs[i].ID}, Type: scorebridge.TicketIncident, Name: fmt.Sprintf("MFA %d", i), Priority: 2})
	}
	tickets, err := d.center.jobs.Tickets().CreateTickets(user, reqs)
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, tk := range tickets {
		ours[tk.ID] = true
	}
	for ev := range completed {
		var args jobs.CreateTicketArgs
		if ev.Job.Kind == args.Kind() && json.Unmarshal(ev.Job.EncodedArgs, &args) == nil && ours[args.TicketID] {
			break
		}
	}
	signal()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	db, err := sqlstore.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var withErrors, running int
	if err := db.SQL.QueryRow(`SELECT COUNT(*) FILTER (WHERE errors IS NOT NULL), COUNT(*) FILTER (WHERE state = 'running') FROM river_job WHERE kind = 'create_ticket'`).Scan(&withErrors, &running); err != nil {
		t.Fatal(err)
	}
	if withErrors != 0 || running != 0 {
		var first string
		db.SQL.QueryRow(`SELECT COALESCE(CAST(errors AS TEXT), '') FROM river_job WHERE kind = 'create_ticket' AND errors IS NOT NULL LIMIT 1`).Scan(&first)
		t.Errorf("after the stop: %d ticket jobs recorded an error, %d left running; want none; first errors: %s", withErrors, running, first)
	}
	sent := 0
	for _, tk := range tickets {
		got, err := sqlstore.NewTicketStore(db).FindTicketByID(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == scorebridge.TicketSent {
			sent++
		} else {
			t.Errorf("ticket %s: %s %q", tk.ID, got.Status, got.Error)
		}
	}
	if sent != len(tickets) {
		t.Errorf("%d of %d tickets sent: the running ones were cut short", sent, len(tickets))
	}
}
