package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// QueueTickets is the River queue ticket jobs run on.
const QueueTickets = "tickets"

// Config holds what a Runner needs. DB, Instances, Recommendations and
// Logger are required.
type Config struct {
	DB              *sqlstore.DB
	Instances       scorebridge.InstanceSource
	Recommendations scorebridge.RecommendationService
	Logger          *slog.Logger
	// Connections, when set, is asked whether the connection a ticket
	// request names exists, so a request for an unknown one is refused at
	// once instead of queued to fail later.
	Connections ConnectionFinder

	// CenterURL is the center's address as a ServiceNow user reaches it,
	// for the link back to the action in each ticket. Default
	// http://127.0.0.1:8080.
	CenterURL string
	// RequestsPerSecond paces the requests to each connection's instance,
	// so a rate limit the instance is known to enforce is not overrun. The
	// pace is kept in the database and shared by every replica: it is the
	// fleet's rate, not each process's. 0 means the default, 20; a
	// negative value turns pacing off. A 429 holds every job of the
	// connection back, on every replica, for its Retry-After in any case.
	RequestsPerSecond float64
	// Workers is how many ticket jobs run at once in this process.
	// Default 20.
	Workers int
	// MaxAttempts is how many times a ticket job runs before the ticket is
	// marked failed; snoozes (rate limits, authorization) do not count.
	// Default 25.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts. Default 5 minutes.
	MaxBackoff time.Duration
	// AuthorizationWait is how long a ticket waits before checking again
	// whether a connection that needs authorizing has been authorized;
	// WakeConnection, called when it is, ends the wait at once. Default 1
	// minute.
	AuthorizationWait time.Duration
	// RequestTimeout bounds one call to the instance. Default 10 seconds:
	// a Table API call answers in well under that, and a create cut short
	// is found by its correlation id on the next attempt, not made twice.
	RequestTimeout time.Duration
	// JobTimeout bounds one attempt of a ticket job (a lookup, a create
	// and the pacing between). Default twice RequestTimeout plus 5
	// seconds. It does not decide when a job left running by a replica
	// that died is worked again (LeaseLapse does); River's own rescuer,
	// kept as a backstop, waits 5 seconds past it.
	JobTimeout time.Duration
	// LeaseLapse is how long a replica on PostgreSQL keeps working jobs
	// after its last heartbeat that succeeded (one is written every fifth
	// of it): past it, the contexts of its running jobs are cancelled and
	// it starts none until a heartbeat succeeds again. The jobs a replica
	// left running are worked again by another LeaseLapse + RequestTimeout
	// + 3 seconds after its last heartbeat (RescueHorizon), once it can no
	// longer be working them: 18 seconds with the defaults, whatever the
	// job's timeout. Default 5 seconds. SQLite has one center per file and
	// no heartbeats: its jobs left running are worked again at start.
	LeaseLapse time.Duration
	// PollInterval is how often idle workers look for new jobs (SQLite has
	// no notifications). Default 100 ms, River's least.
	PollInterval time.Duration
	// SyncTickets, when set, runs as a periodic job every SyncInterval,
	// once across all replicas (River's leader schedules it): the ticket
	// sync of package tracking.
	SyncTickets func(context.Context) error
	// SyncInterval is how often tickets are synced. Default 5 minutes.
	SyncInterval time.Duration
	// SyncEvery, when set, is asked for the sync interval on every
	// SyncTick (the center passes its sync interval setting), so a change
	// takes effect within a tick without a restart; SyncInterval is then
	// the interval when asking fails.
	SyncEvery func(ctx context.Context) (time.Duration, error)
	// SyncTick is how often the leader looks whether a sync is due when
	// SyncEvery is set. Default 1 minute, the least interval the setting
	// allows.
	SyncTick time.Duration
	// Now is the clock for due-date checks. Default time.Now.
	Now func() time.Time
	// Posture, when set, reads the posture connectors (Graph Secure
	// Score) every PostureInterval, once across replicas.
	Posture PostureImporter
	// PostureInterval is how often the connectors are read. Default 6
	// hours: Graph computes the score about once a day.
	PostureInterval time.Duration
	// SLA, when set, gives a ticket without a due date its priority's
	// days, and turns on the overdue check every OverdueInterval (once
	// across replicas) with its work notes.
	SLA SLASource
	// OverdueInterval is how often tickets are checked for being overdue.
	// Default 1 hour: due dates are days.
	OverdueInterval time.Duration
	// SnapshotScore, when set, stores today's score for the history: at
	// start and every SnapshotInterval, once across replicas.
	SnapshotScore func(context.Context) error
	// SnapshotInterval is how often the score is snapshot. Default 1 hour.
	SnapshotInterval time.Duration
	// ObserveJob, when set, is told of every attempt of every job: its
	// kind, outcome (OutcomeOK, ...) and how long it ran (the metrics).
	ObserveJob func(kind, outcome string, d time.Duration)
	// Notifications, when set, delivers notifications (package notify):
	// one job per message, retried with backoff, and a periodic sweep
	// every NotifySweepInterval, once across replicas.
	Notifications NotificationDeliverer
	// NotifySweepInterval is how often due notifications are looked for.
	// Default 5 minutes.
	NotifySweepInterval time.Duration
	// RunRules, when set, runs the enabled automation rules every
	// RulesInterval (once across replicas) and whenever QueueRuleRun asks.
	RunRules func(ctx context.Context, trigger scorebridge.RuleTrigger) error
	// RulesInterval is how often rules run on their own. Default 1 hour.
	RulesInterval time.Duration
	// Notifier, when set, is told of tickets that failed for good and of
	// tickets that went overdue.
	Notifier scorebridge.Notifier
}

func (c *Config) validate() error {
	switch {
	case c.DB == nil:
		return errors.New("jobs: Config.DB is required")
	case c.Instances == nil:
		return errors.New("jobs: Config.Instances is required")
	case c.Recommendations == nil:
		return errors.New("jobs: Config.Recommendations is required")
	case c.Logger == nil:
		return errors.New("jobs: Config.Logger is required")
	}
	if c.CenterURL == "" {
		c.CenterURL = "http://127.0.0.1:8080"
	}
	c.CenterURL = strings.TrimRight(c.CenterURL, "/")
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 20
	}
	if c.Workers <= 0 {
		c.Workers = 20
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 25
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.AuthorizationWait <= 0 {
		c.AuthorizationWait = time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 2*c.RequestTimeout + 5*time.Second
	}
	if c.LeaseLapse <= 0 {
		c.LeaseLapse = 5 * time.Second
	}
	if c.PollInterval < river.FetchCooldownDefault {
		c.PollInterval = river.FetchCooldownDefault
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = 5 * time.Minute
	}
	if c.SyncTick <= 0 {
		c.SyncTick = time.Minute
	}
	if c.PostureInterval <= 0 {
		c.PostureInterval = 6 * time.Hour
	}
	if c.OverdueInterval <= 0 {
		c.OverdueInterval = time.Hour
	}
	if c.RulesInterval <= 0 {
		c.RulesInterval = time.Hour
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = time.Hour
	}
	if c.NotifySweepInterval <= 0 {
		c.NotifySweepInterval = 5 * time.Minute
	}
	return nil
}

// Runner owns the River client and the ticket service built on it. It
// starts no goroutines until Start; Stop is safe to call more than once.
type Runner struct {
	cfg     Config
	store   *sqlstore.TicketStore
	tickets *TicketService

	// Exactly one of these is set, by dialect.
	sqlite *river.Client[*sql.Tx]
	pg     *river.Client[pgx.Tx]

	// replica is this runner's id among the replicas (River's client id);
	// replicas keeps the heartbeats. lease is set on PostgreSQL only.
	replica  string
	replicas *sqlstore.ReplicaStore
	lease    *lease

	// The heartbeat and rescue loops, started by Start and ended by Stop.
	startOnce sync.Once
	endLoops  context.CancelFunc
	loops     sync.WaitGroup

	stopOnce sync.Once
	stopErr  error
}

// New migrates River's tables in cfg.DB and returns a runner ready to
// start. Tickets can be created before Start; they are sent once it runs.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, store: sqlstore.NewTicketStore(cfg.DB), replica: newReplicaID(), replicas: sqlstore.NewReplicaStore(cfg.DB)}
	sender := &sender{
		notifier:  cfg.Notifier,
		store:     r.store,
		parents:   sqlstore.NewDriftStore(cfg.DB),
		instances: cfg.Instances,
		pacers:    newPacers(cfg.RequestsPerSecond, sqlstore.NewPaceStore(cfg.DB)),
		logger:    cfg.Logger,
		centerURL: cfg.CenterURL,
		authWait:  cfg.AuthorizationWait,
		timeout:   cfg.RequestTimeout,
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &ticketWorker{sender: sender, timeout: cfg.JobTimeout}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &updateWorker{sender: sender}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	queues := map[string]river.QueueConfig{QueueTickets: {MaxWorkers: cfg.Workers}, QueueSync: {MaxWorkers: 1}}
	var periodic []*river.PeriodicJob
	if cfg.Posture != nil {
		if err := river.AddWorkerSafely(workers, &postureWorker{importer: cfg.Posture, timeout: 30 * time.Minute}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[QueuePosture] = river.QueueConfig{MaxWorkers: 1}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.PostureInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ImportPostureArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	if cfg.RunRules != nil {
		if err := river.AddWorkerSafely(workers, &rulesWorker{run: cfg.RunRules}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[QueueRules] = river.QueueConfig{MaxWorkers: 1}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.RulesInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return RunRulesArgs{Trigger: scorebridge.TriggerSchedule}, nil
			}, nil))
	}
	if cfg.SLA != nil {
		if err := river.AddWorkerSafely(workers, &overdueCheckWorker{runner: r}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &overdueNoteWorker{sender: sender, sla: cfg.SLA}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		queues[QueueSLA] = river.QueueConfig{MaxWorkers: 2}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.OverdueInterval),
			func() (river.JobArgs, *river.InsertOpts) { return CheckOverdueArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	rc := &river.Config{
		// River records it in attempted_by: the rescue knows by it whose
		// heartbeat a running job depends on.
		ID:                r.replica,
		Logger:            cfg.Logger,
		Queues:            queues,
		PeriodicJobs:      periodic,
		Workers:           workers,
		MaxAttempts:       cfg.MaxAttempts,
		RetryPolicy:       retryPolicy{max: cfg.MaxBackoff},
		FetchCooldown:     river.FetchCooldownDefault,
		FetchPollInterval: cfg.PollInterval,
		// The ticket job's bound; the other kinds set their own (Timeout
		// on their workers), which River's rescuer honours too.
		JobTimeout: cfg.JobTimeout,
		// The backstop for the rescue of rescue.go (which takes a dead
		// replica's jobs over sooner, by its heartbeat): a job still
		// running past its timeout is worked again, not after River's
		// default hour. Repeating a ticket job is safe, since the worker
		// looks the ticket up by its correlation id before creating it.
		RescueStuckJobsAfter: rescueAfter(cfg.JobTimeout),
	}
	if cfg.DB.Dialect == sqlstore.DialectPostgres {
		// The lease goes first, so a job it holds back is not observed
		// as an attempt.
		r.lease = newLease(r.replicas, r.replica, cfg.LeaseLapse/5, cfg.LeaseLapse, cfg.Logger)
		rc.Middleware = append(rc.Middleware, r.lease)
	}
	if cfg.ObserveJob != nil {
		rc.Middleware = append(rc.Middleware, &jobObserver{observe: cfg.ObserveJob})
	}
	if cfg.SyncTickets != nil {
		if err := addSync(workers, rc, cfg); err != nil {
			return nil, err
		}
	}
	if cfg.SnapshotScore != nil {
		if err := addSnapshot(workers, rc, cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Notifications != nil {
		if err := addNotify(workers, rc, cfg); err != nil {
			return nil, err
		}
	}
	var err error
	switch cfg.DB.Dialect {
	case sqlstore.DialectPostgres:
		r.pg, err = newClient(ctx, riverpgxv5.New(cfg.DB.Pool), rc)
	default:
		r.sqlite, err = newClient(ctx, riversqlite.New(cfg.DB.SQL), rc)
	}
	if err != nil {
		return nil, err
	}
	r.tickets = &TicketService{
		store:       r.store,
		recs:        cfg.Recommendations,
		connections: cfg.Connections,
		enqueue:     r.enqueueTickets,
		now:         cfg.Now,
		sla:         cfg.SLA,
	}
	return r, nil
}

// rescueAfter is how long a ticket job may stay running before River's
// rescuer (the backstop) takes it for one whose process died: past its
// timeout, so a job still at work is never rescued (and run twice at once)
// while it could be running.
func rescueAfter(jobTimeout time.Duration) time.Duration {
	return jobTimeout + 5*time.Second
}

// RescueAfter is how long after its attempt began a ticket job left
// running by a process that died is due again at the latest, by River's
// rescuer; RescueHorizon is sooner.
func (r *Runner) RescueAfter() time.Duration { return rescueAfter(r.cfg.JobTimeout) }

func newClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], rc *river.Config) (*river.Client[TTx], error) {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: rc.Logger})
	if err != nil {
		return nil, fmt.Errorf("jobs: River migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("jobs: apply River migrations: %w", err)
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: River client: %w", err)
	}
	return c, nil
}

// Tickets returns the ticket service.
func (r *Runner) Tickets() *TicketService { return r.tickets }

// Start starts working jobs until Stop is called. The jobs get ctx's
// values (the audit log) but not its end: River cancels running jobs at
// once when its start context ends, so a stop signal would cost each
// running job an attempt; Stop lets them finish first.
//
// On SQLite it first makes the jobs a killed process left running due
// again; on PostgreSQL it writes the first heartbeat and starts the
// heartbeat and rescue loops (rescue.go).
func (r *Runner) Start(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	r.startOnce.Do(func() { err = r.startRescue(ctx) })
	if err != nil {
		return err
	}
	if r.sqlite != nil {
		return r.sqlite.Start(ctx)
	}
	return r.pg.Start(ctx)
}

// startRescue does Start's part in rescuing jobs, before River starts.
func (r *Runner) startRescue(ctx context.Context) error {
	if r.lease == nil {
		rescued, err := r.replicas.RescueJobsNotBy(ctx, r.replica)
		if err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		logRescued(r.cfg.Logger, rescued, "one center runs on a SQLite file, and this one just started")
		return nil
	}
	// Jobs fetched before the first heartbeat would only be held back; a
	// failure is logged, and the loop tries again.
	r.lease.renew(ctx)
	loops, end := context.WithCancel(ctx)
	r.endLoops = end
	r.loops.Go(func() { r.lease.run(loops) })
	r.loops.Go(func() { rescueLoop(loops, r.replicas, r.RescueHorizon(), r.cfg.Logger) })
	return nil
}

// Stop waits for running jobs to finish, up to ctx's deadline, then
// cancels them; their tickets are picked up again on the next start. The
// heartbeats go on until the jobs have ended, so none loses its lease on
// the way; after a clean stop the replica's heartbeat is removed.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() {
		defer r.endRescue(ctx)
		var err error
		if r.sqlite != nil {
			err = r.sqlite.Stop(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				err = r.sqlite.StopAndCancel(context.WithoutCancel(ctx))
			}
		} else {
			err = r.pg.Stop(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				err = r.pg.StopAndCancel(context.WithoutCancel(ctx))
			}
		}
		r.stopErr = err
	})
	return r.stopErr
}

// endRescue ends the heartbeat and rescue loops and, when River stopped
// cleanly, removes the replica's heartbeat (otherwise it goes stale, and
// any job left running is rescued by another replica).
func (r *Runner) endRescue(ctx context.Context) {
	if r.endLoops == nil {
		return
	}
	r.endLoops()
	r.loops.Wait()
	if r.stopErr != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.replicas.Leave(ctx, r.replica); err != nil {
		r.cfg.Logger.Warn("replica heartbeat not removed; it goes stale instead", "replica", r.replica, "error", err)
	}
}

// EnqueueTickets inserts one ticket job per id in tx: how tickets written
// elsewhere (an automation rule's run) join the durable ticket path.
func (r *Runner) EnqueueTickets(ctx context.Context, tx sqlstore.TicketTx, ids []string) error {
	return r.enqueueTickets(ctx, tx, ids)
}

// enqueueTickets inserts one ticket job per id in tx.
func (r *Runner) enqueueTickets(ctx context.Context, tx sqlstore.TicketTx, ids []string) error {
	return r.insertJobs(ctx, tx, "ticket", ids, func(id string) river.JobArgs { return CreateTicketArgs{TicketID: id} })
}

// insertJobs inserts one job per id, made by args, in tx (whichever
// dialect's transaction it holds); what names them in an error.
func (r *Runner) insertJobs(ctx context.Context, tx sqlstore.TicketTx, what string, ids []string, args func(id string) river.JobArgs) error {
	if len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: args(id)}
	}
	var err error
	if tx.PGX != nil {
		_, err = r.pg.InsertManyTx(ctx, tx.PGX, params)
	} else {
		_, err = r.sqlite.InsertManyTx(ctx, tx.SQL, params)
	}
	if err != nil {
		return fmt.Errorf("queue %s jobs: %w", what, err)
	}
	return nil
}
