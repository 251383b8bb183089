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
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/snowsim/consent"
)

// demoAdminPassword is the embedded simulator's admin password, printed for
// the person trying the demo: the simulator holds demo data only.
const demoAdminPassword = "admin"

// demoIntegrationPassword is the password the demo gives the integration
// user on its simulator, so a person can sign in as it and authorize again.
const demoIntegrationPassword = "Demo.Integration1"

// runDemo starts the whole product in one command: a ServiceNow simulator,
// and the center with its catalog, connected to the simulator through the
// real installation checklist and OAuth authorization (code and PKCE),
// performed as the integration user.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts, err := parseConfig("demo", fs, args, getenv)
	if err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usagef("demo takes no arguments, got %q", fs.Args())
	}
	// The demo keeps its own database (optDemoDB) unless told otherwise,
	// so it never mixes demo data into a real center's.
	cfg := newCenterConfig(opts, optDemoDB)
	snowAddr := opts.String(optDemoSnowAddr)
	// The simulator runs on this machine, over plain http.
	cfg.Connections.AllowPrivate = true
	if err := cfg.validate(); err != nil {
		return err
	}
	logger := newLogger(cfg.LogFormat, stderr)
	d, err := startDemo(ctx, cfg, snowAddr, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scorebridge demo\n\n")
	fmt.Fprintf(stdout, "  Center:               %s\n", d.center.URL())
	fmt.Fprintf(stdout, "  ServiceNow simulator:  %s\n", d.simURL)
	fmt.Fprintf(stdout, "  Simulator admin:       user admin, password %s\n", demoAdminPassword)
	fmt.Fprintf(stdout, "  Integration user:      %s, password %s (to authorize again)\n", connection.DefaultIntegrationUser, demoIntegrationPassword)
	if err := d.center.printDemoSignIn(ctx, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The center is connected to the simulator. Stop with Ctrl-C.\n")
	return d.Run(ctx)
}

// demo is a running simulator and center.
type demo struct {
	sim    *snowsim.Instance
	simSrv *http.Server
	simLn  net.Listener
	simURL string
	center *center
}

// startDemo starts the simulator and the center and connects them.
func startDemo(ctx context.Context, cfg centerConfig, snowAddr string, logger *slog.Logger) (*demo, error) {
	sim, err := snowsim.New(snowsim.Options{AdminPassword: demoAdminPassword})
	if err != nil {
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	ln, err := net.Listen("tcp", snowAddr)
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("listen on %s for the simulator: %w", snowAddr, err)
	}
	d := &demo{sim: sim, simLn: ln, simURL: "http://" + ln.Addr().String()}
	d.simSrv = &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go d.simSrv.Serve(ln)

	if d.center, err = openCenter(ctx, cfg, logger); err != nil {
		d.stopSimulator()
		return nil, err
	}
	if err := d.connect(ctx); err != nil {
		d.center.srv.Close()
		d.center.db.Close()
		d.stopSimulator()
		return nil, fmt.Errorf("connect the center to the simulator: %w", err)
	}
	return d, nil
}

// connect makes the center genuinely connected: the installation checklist
// as the simulator's admin, then the authorization code grant with PKCE,
// signed in as the integration user on the simulator's login and consent
// pages. Connections left by an earlier demo point at a simulator that is
// gone (it keeps its data in memory), so they are removed first.
func (d *demo) connect(ctx context.Context) error {
	svc := d.center.conns
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "demo", Name: "demo", Role: scorebridge.RoleAdmin})
	old, err := svc.FindConnections(ctx)
	if err != nil {
		return err
	}
	for _, c := range old {
		if err := svc.RemoveConnection(ctx, c.ID); err != nil {
			return err
		}
	}
	_, err = d.center.connectSimulator(ctx, d.simURL, demoAdminPassword, demoIntegrationPassword)
	return err
}

// connectSimulator connects the center to a simulator the way an admin
// does: the installation checklist as the simulator's admin, then the
// authorization code grant with PKCE, signed in as the integration user on
// the simulator's login and consent pages. ctx carries an admin.
func (c *center) connectSimulator(ctx context.Context, simURL, adminPassword, integrationPassword string) (*scorebridge.Connection, error) {
	svc := c.conns
	res, err := svc.RunChecklist(ctx, scorebridge.ChecklistInput{Instance: simURL, AdminUser: "admin", AdminPassword: adminPassword,
		IntegrationPassword: integrationPassword})
	if err != nil {
		return nil, err
	}
	for _, ch := range res.Checks {
		if !ch.OK {
			return nil, fmt.Errorf("checklist step %q: %s", ch.Name, ch.Message)
		}
	}
	authURL, err := svc.AuthorizeURL(ctx, res.Connection.ID, demoBinding)
	if err != nil {
		return nil, err
	}
	cb, err := consent.AllowAs(ctx, servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: true}), authURL, connection.DefaultIntegrationUser, integrationPassword)
	if err != nil {
		return nil, err
	}
	q := cb.Query()
	conn, err := svc.CompleteAuthorization(ctx, []string{demoBinding}, q.Get("state"), q.Get("code"), q.Get("error"))
	if err != nil {
		return nil, err
	}
	// The ticket state names come from the instance's choice lists, read
	// at connect as the connection page's authorization does.
	if c.tracking != nil {
		if _, err := c.tracking.RefreshStateNames(ctx, conn.ID); err != nil {
			c.logger.Warn("ticket state names not read from the simulator", "error", err)
		}
	}
	return conn, nil
}

// demoBinding binds the demo's own authorization, which no browser
// session starts or completes.
const demoBinding = "demo"

// Run serves until ctx ends, then stops the center and the simulator.
func (d *demo) Run(ctx context.Context) error {
	err := d.center.Run(ctx)
	d.stopSimulator()
	return err
}

func (d *demo) stopSimulator() {
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.simSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		d.simSrv.Close()
	}
	d.simLn.Close()
	d.sim.Close()
}
