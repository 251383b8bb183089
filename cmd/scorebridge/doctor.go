package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// errChecksFailed makes `scorebridge doctor` exit 1 when a check failed, so
// scripts and monitoring can act on it.
type errChecksFailed int

func (e errChecksFailed) Error() string {
	if e == 1 {
		return "1 check failed"
	}
	return fmt.Sprintf("%d checks failed", int(e))
}

// runDoctor runs the connection doctor from the command line against the
// center's database: every check the troubleshooting guide would have a
// person do by hand, with the fix in words.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("connection", "", "connection id (default: the default connection)")
	opts, err := parseConfig("doctor", fs, args, getenv)
	if err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usagef("doctor takes no arguments, got %q", fs.Args())
	}
	cfg := newCenterConfig(opts, optDB)
	// Connection events go to stderr only as warnings: stdout is the report.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	svc, err := openConnections(cfg, db, cfg.Addr, logger, nil, nil)
	if err != nil {
		return err
	}
	c, err := svc.FindConnectionByID(ctx, *id)
	if err != nil {
		return fmt.Errorf("%s", scorebridge.ErrorMessage(err))
	}
	checks, err := svc.Doctor(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("%s", scorebridge.ErrorMessage(err))
	}
	return printChecks(stdout, c, checks)
}

// printChecks writes the doctor's report and returns errChecksFailed when
// any check failed.
func printChecks(w io.Writer, c *scorebridge.Connection, checks []scorebridge.Check) error {
	fmt.Fprintf(w, "Connection %s to %s: %s\n\n", c.ID, c.InstanceURL, scorebridge.ConnectionStatusLabel(c.Status))
	failed := 0
	for _, ch := range checks {
		mark := "ok  "
		if !ch.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "[%s] %s: %s\n", mark, ch.Name, ch.Message)
		if ch.Fix != "" {
			fmt.Fprintf(w, "       Fix: %s\n", ch.Fix)
		}
	}
	if failed > 0 {
		fmt.Fprintln(w)
		return errChecksFailed(failed)
	}
	fmt.Fprintln(w, "\nEvery check passed.")
	return nil
}
