package jobs_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// The test binary runs as a replica process (runReplica) when these are
// set, so a test can kill a replica for real.
const (
	replicaDSNEnv = "SCOREBRIDGE_TEST_REPLICA_DSN"
	replicaSimEnv = "SCOREBRIDGE_TEST_REPLICA_SIMULATOR"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(replicaDSNEnv); dsn != "" {
		runReplica(dsn, os.Getenv(replicaSimEnv))
		return
	}
	os.Exit(m.Run())
}

// runReplica works jobs on dsn with the simulator at sim until the process
// is killed.
func runReplica(dsn, sim string) {
	ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "u-42", Name: "alice", Role: scorebridge.RoleAdmin})
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		panic(err)
	}
	r, err := jobs.New(ctx, jobs.Config{
		DB:                db,
		Instances:         &testInstances{url: sim, user: "admin", password: "admin"},
		Recommendations:   sqlstore.NewRecommendationService(db),
		Logger:            testLogger(),
		RequestsPerSecond: -1,
	})
	if err != nil {
		panic(err)
	}
	if err := r.Start(ctx); err != nil {
		panic(err)
	}
	select {}
}

// A replica killed (SIGKILL) on PostgreSQL while its job is mid-create
// leaves the job running; the other replica works it again once the killed
// one's heartbeat is older than the rescue horizon (RescueHorizon, with
// the defaults), and adopts the record the create made, so the ticket is
// made exactly once.
func TestTicket_ReplicaKilledMidJobIsRescued(t *testing.T) {
	dsn := dbtest.PostgresURL()
	if dsn == "" {
		t.Skip("SCOREBRIDGE_TEST_POSTGRES is not set")
	}
	t.Parallel()
	b := setup(t, setupOpts{dsn: dbtest.PostgresSchema(t, dsn, "jobs"), noStart: true})
	arrived, release := b.faults.holdCreates()
	t.Cleanup(release)
	tk := createOne(t, b, &scorebridge.TicketRequest{RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident, Name: "MFA", Priority: 2})

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), replicaDSNEnv+"="+b.dsn, replicaSimEnv+"="+b.instances.url)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { child.Wait(); close(exited) }()
	t.Cleanup(func() { child.Process.Kill(); <-exited })
	select {
	case <-arrived: // the replica's job is mid-create
	case <-exited:
		t.Fatal("the replica process ended before working the job")
	case <-time.After(60 * time.Second):
		t.Fatal("the replica did not start the job within 60s")
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	killed := time.Now()
	// The instance makes the record the killed replica asked for: its
	// answer went nowhere.
	release()

	if err := b.runner.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	got := b.waitTicketFor(t, tk.ID, nil, 2*time.Minute)
	t.Logf("the killed replica's job was rescued and its ticket sent %s after the kill (rescue horizon: %s after its last heartbeat; River's rescuer alone took 30-60s)",
		time.Since(killed).Round(100*time.Millisecond), b.runner.RescueHorizon())
	if got.Status != scorebridge.TicketSent {
		t.Fatalf("ticket %+v", got)
	}
	if n := len(b.records(t, "incident", tk.ID)); n != 1 {
		t.Fatalf("%d incidents for the ticket, want 1", n)
	}
}
