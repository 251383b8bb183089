package jobs_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// A job left "running" by a process that was killed is worked again at
// once when the center starts again on its SQLite file (one center runs on
// a file, so the attempt was a dead process's), not after River's rescuer
// would take it; and the ticket is still made once.
func TestTicket_InterruptedJobResumesAtStart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noStart: true})
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})

	// What a SIGKILL mid-job leaves behind: the job running, its attempt
	// begun a moment ago by the process that was killed.
	b.setRunning(t, tk.ID, "killed-replica", time.Now())
	if err := b.runner.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	// Well before River's rescuer could take it (RescueAfter, 30 s).
	got := b.waitTicketFor(t, tk.ID, nil, b.runner.RescueAfter()/2)
	if got.Status != scorebridge.TicketSent || len(b.records(t, "incident", tk.ID)) != 1 {
		t.Fatalf("ticket %+v", got)
	}
}

// One rescue pass makes a job running on a replica whose heartbeat is
// older than the horizon available again, with River's kind of error entry,
// and leaves the job of a replica with a fresh heartbeat running, and that
// of a replica with no heartbeat at all (a replica of an older version
// during an upgrade) to River's rescuer. The rescued job is then worked.
func TestRescue_StaleHeartbeatOnly(t *testing.T) {
	t.Parallel()
	dsns := map[string]string{"sqlite": ""}
	if dsn := dbtest.PostgresURL(); dsn != "" {
		dsns["postgres"] = dsn
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if dsn != "" {
				dsn = dbtest.PostgresSchema(t, dsn, "jobs")
			}
			b := setup(t, setupOpts{dsn: dsn, noStart: true})
			req := func(name string) *scorebridge.TicketRequest {
				return &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: name, Priority: 2}
			}
			dead, alive, unknown := createOne(t, b, req("dead")), createOne(t, b, req("alive")), createOne(t, b, req("unknown"))
			horizon := b.runner.RescueHorizon()
			long := time.Now().Add(-2 * horizon)
			b.setRunning(t, dead.ID, "dead-replica", long)
			b.setRunning(t, alive.ID, "alive-replica", long)
			b.setRunning(t, unknown.ID, "unknown-replica", long)
			replicas := sqlstore.NewReplicaStore(b.db)
			for _, id := range []string{"dead-replica", "alive-replica"} {
				if err := replicas.Beat(b.ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			b.setSeen(t, "dead-replica", horizon+time.Second)

			rescued, err := replicas.RescueJobs(b.ctx, horizon)
			if err != nil {
				t.Fatal(err)
			}
			if len(rescued) != 1 || rescued["dead-replica"] != 1 {
				t.Fatalf("rescued %v, want one job of dead-replica", rescued)
			}
			if got := b.jobState(t, dead.ID); got != "available" {
				t.Errorf("the dead replica's job is %s, want available", got)
			}
			for _, id := range []string{alive.ID, unknown.ID} {
				if got := b.jobState(t, id); got != "running" {
					t.Errorf("job of ticket %s is %s, want it left running", id, got)
				}
			}
			e := b.lastJobError(t, dead.ID)
			if e.Error != sqlstore.RescuedJobError || e.Attempt != 1 || time.Since(e.At) > time.Minute {
				t.Errorf("error entry %+v", e)
			}
			again, err := replicas.RescueJobs(b.ctx, horizon)
			if err != nil || len(again) != 0 {
				t.Errorf("second pass rescued %v (%v), want nothing", again, err)
			}

			if err := b.runner.Start(b.ctx); err != nil {
				t.Fatal(err)
			}
			got := b.waitTicket(t, dead.ID, nil)
			if got.Status != scorebridge.TicketSent || len(b.records(t, "incident", dead.ID)) != 1 {
				t.Fatalf("rescued ticket %+v", got)
			}
		})
	}
}

// setRunning makes the ticket's job look like one a replica is working, its
// attempt begun at attempted.
func (b *bundle) setRunning(t testing.TB, ticketID, replica string, attempted time.Time) {
	t.Helper()
	var err error
	if b.db.Dialect == sqlstore.DialectPostgres {
		_, err = b.db.SQL.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1, attempted_by = ARRAY[$2]::text[]
			WHERE kind = 'create_ticket' AND args->>'ticket_id' = $3`, attempted, replica, ticketID)
	} else {
		_, err = b.db.SQL.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ?, attempted_by = jsonb(json_array(?))
			WHERE kind = 'create_ticket' AND json_extract(args, '$.ticket_id') = ?`,
			attempted.UTC().Format("2006-01-02 15:04:05.000"), replica, ticketID)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// setSeen dates the replica's heartbeat ago in the past.
func (b *bundle) setSeen(t testing.TB, replica string, ago time.Duration) {
	t.Helper()
	var err error
	if b.db.Dialect == sqlstore.DialectPostgres {
		_, err = b.db.SQL.Exec(`UPDATE replicas SET seen_at = now() - $1::bigint * interval '1 microsecond' WHERE id = $2`, ago.Microseconds(), replica)
	} else {
		_, err = b.db.SQL.Exec(`UPDATE replicas SET seen_at = ? WHERE id = ?`,
			time.Now().UTC().Add(-ago).Format("2006-01-02T15:04:05.000000Z"), replica)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// jobState is the state of the ticket's job.
func (b *bundle) jobState(t testing.TB, ticketID string) string {
	t.Helper()
	q := `SELECT state FROM river_job WHERE kind = 'create_ticket' AND json_extract(args, '$.ticket_id') = ?`
	if b.db.Dialect == sqlstore.DialectPostgres {
		q = `SELECT state FROM river_job WHERE kind = 'create_ticket' AND args->>'ticket_id' = $1`
	}
	var state string
	if err := b.db.SQL.QueryRow(q, ticketID).Scan(&state); err != nil {
		t.Fatal(err)
	}
	return state
}

// lastJobError is the last entry of the ticket's job's errors, as River
// reads it.
func (b *bundle) lastJobError(t testing.TB, ticketID string) rivertype.AttemptError {
	t.Helper()
	q := `SELECT json_extract(errors, '$[#-1]') FROM river_job WHERE kind = 'create_ticket' AND json_extract(args, '$.ticket_id') = ?`
	if b.db.Dialect == sqlstore.DialectPostgres {
		q = `SELECT errors[cardinality(errors)]::text FROM river_job WHERE kind = 'create_ticket' AND args->>'ticket_id' = $1`
	}
	var raw string
	if err := b.db.SQL.QueryRow(q, ticketID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var e rivertype.AttemptError
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatalf("error entry %s: %v", raw, err)
	}
	return e
}
