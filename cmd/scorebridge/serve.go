package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/catalog"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/metrics"
	"github.com/scorebridge/scorebridge/notify"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/rules"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
	"github.com/scorebridge/scorebridge/web"
	"golang.org/x/sync/errgroup"
)

// centerConfig is what serve (and demo) need to start the center. Its
// values come from the options table (options.go), where each is defined
// with its flag, variable and default; tests fill it directly.
type centerConfig struct {
	// Addr is the listen address.
	Addr string
	// DB is a SQLite file path or a postgres:// URL.
	DB string
	// LogFormat is "text" or "json".
	LogFormat string
	// ShutdownGrace is how long requests and running jobs get to finish
	// once the center is asked to stop. Zero means 20 seconds.
	ShutdownGrace time.Duration
	// Tickets configures sending tickets to ServiceNow.
	Tickets ticketConfig
	// Connections configures connecting to ServiceNow instances.
	Connections connectionConfig
	// Auth configures sign-in.
	Auth authConfig
	// keepViews, when set, is asked whether pages may be answered from
	// what was kept (web.Config.DataVersion): the bench turns it off to
	// measure pages built on every request, as after every change.
	keepViews func() bool
}

// newCenterConfig takes the center's settings from a command's options;
// those the command does not read keep their zero value.
func newCenterConfig(c *config, db *option) centerConfig {
	cfg := centerConfig{Addr: c.String(optAddr), DB: c.String(db), LogFormat: "text"}
	if c.has(optLogFormat) {
		cfg.LogFormat = c.String(optLogFormat)
	}
	if c.has(optShutdownGrace) {
		cfg.ShutdownGrace = c.Duration(optShutdownGrace)
	}
	if c.has(optServiceNowRPS) {
		cfg.Tickets.RequestsPerSecond = c.Float(optServiceNowRPS)
	}
	cfg.Connections = newConnectionConfig(c)
	if c.has(optSecureCookies) {
		cfg.Auth = newAuthConfig(c)
	}
	return cfg
}

// subcommandFlags is the flag set of "scorebridge cmd sub": errors go to
// stderr after the command's own usage text.
func subcommandFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	return fs
}

// validate checks the rules that tie options together; each option's own
// value was checked when it was read.
func (c *centerConfig) validate() error {
	if err := c.Auth.validate(); err != nil {
		return err
	}
	return nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts, err := parseConfig("serve", fs, args, getenv)
	if err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	cfg := newCenterConfig(opts, optDB)
	if err := cfg.validate(); err != nil {
		return err
	}
	logger := newLogger(cfg.LogFormat, stderr)

	center, err := openCenter(ctx, cfg, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scorebridge is running at %s\n", center.URL())
	if center.firstAdmin != nil {
		printFirstAdmin(stdout, center.URL(), center.firstAdmin.Password)
	}
	return center.Run(ctx)
}

// center is a running scorebridge: its database, services and web server.
// It is shared by serve, demo and the end-to-end tests.
type center struct {
	logger *slog.Logger
	// grace is how long a stop gives requests and running jobs.
	grace  time.Duration
	db     *sqlstore.DB
	recs   scorebridge.RecommendationService
	scores scorebridge.ScoreService
	jobs   *jobs.Runner
	// metrics records what the center does, for /metrics.
	metrics *metrics.Registry
	conns   *connection.Service
	// tracking brings ticket state back from ServiceNow.
	tracking *tracking.Service
	// settings keeps the settings admins change on the Settings page.
	settings *sqlstore.SettingsStore
	// drift lists drift and acts on it through the job queue.
	drift *jobs.DriftService
	auth  *authServices
	// sla keeps the due days per priority and the overdue work note.
	sla *sqlstore.SLAStore
	// rules runs the automation rules after imports and on a schedule.
	rules *rules.Engine
	// posture imports posture data and reads the Graph connectors.
	posture *posture.Service
	// notify records events and delivers them to the notification
	// targets; it is the Notifier every part is given.
	notify *notify.Service
	// firstAdmin is set when this start created the first admin.
	firstAdmin *firstAdmin
	ln         net.Listener
	srv        *http.Server
}

// openCenter opens the database (applying migrations), loads the built-in
// catalog on first start, takes today's score snapshot and starts listening.
func openCenter(ctx context.Context, cfg centerConfig, logger *slog.Logger) (*center, error) {
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// One center per SQLite file: a second would work the same jobs.
	if err := db.LockExclusive(); err != nil {
		db.Close()
		return nil, err
	}
	c := &center{
		logger:  logger,
		grace:   cfg.ShutdownGrace,
		db:      db,
		metrics: metrics.New(),
		recs:    sqlstore.NewRecommendationService(db),
		scores:  sqlstore.NewScoreService(db),
	}
	c.metrics.WatchDatabase(db.ReadSQL(), logger)
	if err := c.seed(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Listen first: the OAuth redirect URL names the address actually bound.
	if c.grace <= 0 {
		c.grace = 20 * time.Second
	}
	if c.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		db.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if c.notify, err = openNotify(cfg, db, logger); err != nil {
		c.ln.Close()
		db.Close()
		return nil, err
	}
	if c.conns, err = openConnections(cfg, db, c.ln.Addr().String(), logger, c.metrics.ObserveServiceNowCall, c.notify); err != nil {
		c.ln.Close()
		db.Close()
		return nil, err
	}
	if c.posture, err = openPosture(cfg, db, logger, c.metrics, c.notify); err != nil {
		c.ln.Close()
		db.Close()
		return nil, err
	}
	c.recs = &posture.WriteBackRecommendations{RecommendationService: c.recs, Importer: c.posture.Importer, Logger: logger}
	if err := c.openTickets(ctx, cfg, c.conns); err != nil {
		c.ln.Close()
		db.Close()
		return nil, err
	}
	webAuth, err := c.openAuth(ctx, cfg.Auth)
	if err != nil {
		c.ln.Close()
		db.Close()
		return nil, err
	}
	proxies, err := web.ParseTrustedProxies(cfg.Auth.TrustedProxies)
	if err != nil {
		c.ln.Close()
		db.Close()
		return nil, usagef("--trusted-proxies: %s", scorebridge.ErrorMessage(err))
	}
	webServer, err := web.NewServer(web.Config{
		Recommendations: c.recs,
		Scores:          c.scores,
		Tickets:         c.jobs.Tickets(),
		Connections:     c.conns,
		Tracking:        c.tracking,
		Settings:        c.settings,
		Drift:           c.drift,
		SLA:             c.sla,
		SLAReports:      sqlstore.NewTicketStore(db),
		Rules:           c.rules,
		Logger:          logger,
		Ready:           func(context.Context) error { return writeProblem(db) },
		DataVersion:     dataVersion(db, cfg.keepViews),
		WriteProblem: func() string {
			if p := db.WriteProblem(); p != nil {
				return p.Message
			}
			return ""
		},
		Auth:           webAuth,
		Audit:          c.auth.audit,
		Idempotency:    sqlstore.NewIdempotencyStore(db),
		TrustedProxies: proxies,
		Hosts:          centerHosts(cfg, c.ln.Addr().String()),
		Metrics:        c.metrics,
		Posture:        c.posture,
		Notifications:  c.notify,
	})
	if err != nil {
		c.ln.Close()
		db.Close()
		return nil, err
	}
	c.srv = &http.Server{
		Handler:           webServer.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return c, nil
}

// seed loads the catalog actions that are not there yet: on first start a new
// user sees a populated center, and a newer catalog adds its new actions
// without touching the states admins gave the old ones.
func (c *center) seed(ctx context.Context) error {
	recs, err := catalog.Recommendations()
	if err != nil {
		return fmt.Errorf("built-in catalog: %w", err)
	}
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "system", Name: "system"})
	n, err := c.recs.SeedRecommendations(ctx, recs)
	if err != nil {
		return fmt.Errorf("load built-in catalog: %w", err)
	}
	if n > 0 {
		c.logger.Info("loaded built-in catalog", "actions", n)
	}
	return nil
}

// URL is the address a browser opens.
func (c *center) URL() string { return "http://" + c.ln.Addr().String() }

// Run serves until ctx ends or serving fails, then shuts down gracefully:
// the HTTP server drains in-flight requests first, then the job runner
// stops taking jobs and lets running ones finish, both within the shutdown
// grace. Every goroutine Run starts belongs to one group; the database is
// closed only once all of them have ended.
func (c *center) Run(ctx context.Context) error {
	c.logger.Info("scorebridge started", "url", c.URL())
	// Background work (the ticket jobs) records what it does in the audit
	// log found in its context.
	ctx = scorebridge.NewContextWithAudit(ctx, c.auth.audit)
	if err := c.startTickets(ctx); err != nil {
		c.srv.Close()
		c.db.Close()
		if ctx.Err() != nil {
			return nil // asked to stop while starting: a clean stop
		}
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := c.srv.Serve(c.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve HTTP: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return c.shutdown(context.WithoutCancel(gctx))
	})
	err := g.Wait()
	if cerr := c.db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// shutdown drains the HTTP server, then stops the jobs, within the grace.
// Requests go first: a request still being answered may queue a ticket,
// which the runner then keeps for the next start rather than losing.
func (c *center) shutdown(ctx context.Context) error {
	c.logger.Info("scorebridge shutting down", "grace", c.grace)
	ctx, cancel := context.WithTimeout(ctx, c.grace)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	if err != nil {
		// Past the grace: cut the connections still open.
		c.srv.Close()
		err = fmt.Errorf("drain HTTP requests: %w", err)
	}
	if jerr := c.stopTickets(ctx); jerr != nil {
		err = errors.Join(err, fmt.Errorf("stop jobs: %w", jerr))
	}
	return err
}

// writeProblem is why db cannot be written, nil when it can (never a
// typed nil).
func writeProblem(db *sqlstore.DB) error {
	if p := db.WriteProblem(); p != nil {
		return p
	}
	return nil
}

// centerHosts are the Host header values the center answers: its public
// URL's host, the listen address as configured and as bound, and localhost
// for a loopback address. Anything else is another site's name pointed at
// this address (DNS rebinding) and gets a 421.
func centerHosts(cfg centerConfig, bound string) []string {
	hosts := []string{cfg.Addr, bound}
	if u, err := url.Parse(cfg.Connections.PublicURL); err == nil && u.Host != "" {
		hosts = append(hosts, u.Host)
	}
	for _, a := range []string{cfg.Addr, bound} {
		if host, port, err := net.SplitHostPort(a); err == nil {
			if ip, err := netip.ParseAddr(host); (err == nil && ip.IsLoopback()) || host == "localhost" {
				hosts = append(hosts, net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port))
			}
		}
	}
	return hosts
}

// dataVersion is the database's change count for the web server's kept
// views, or one that is never trusted while keep says no.
func dataVersion(db *sqlstore.DB, keep func() bool) func() (uint64, bool) {
	if keep == nil {
		return db.Version
	}
	return func() (uint64, bool) {
		v, ok := db.Version()
		return v, ok && keep()
	}
}
