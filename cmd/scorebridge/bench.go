package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// benchSize is how large a center the bench builds and how hard it
// measures it.
type benchSize struct {
	actions   []int // center sizes, smallest first
	tickets   int
	instances int
	clients   int       // concurrent clients of the page measures
	requests  int       // requests per page measured
	tracked   int       // tickets per instance that the simulator also holds
	changes   int       // records changed on the instance before the measured sync
	share     int       // tickets shared in each creation run
	shareRuns int       // creation runs
	rate      float64   // the instance's rate limit and the center's pace, per second
	profile   io.Writer // where the page measures' CPU profile goes, nil for none
}

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts, err := parseConfig("bench", fs, args, getenv)
	if err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usagef("bench takes no arguments, got %q", fs.Args())
	}
	size := benchSize{tickets: int(opts.Int(optBenchTickets)), instances: 3, clients: 10, requests: int(opts.Int(optBenchRequests)),
		tracked: 1000, changes: 100, share: int(opts.Int(optBenchShare)), shareRuns: 3, rate: 20}
	for _, a := range opts.List(optBenchActions) {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || n < 1 {
			return usagef("--actions: %q is not a number of actions (1 or more)", a)
		}
		if len(size.actions) > 0 && n < size.actions[len(size.actions)-1] {
			return usagef("--actions: give the sizes smallest first (%d after %d)", n, size.actions[len(size.actions)-1])
		}
		size.actions = append(size.actions, n)
	}
	if opts.Bool(optBenchQuick) {
		size = benchSize{actions: []int{200, 400}, tickets: 1000, instances: 3, clients: 10, requests: 50,
			tracked: 100, changes: 10, share: 10, shareRuns: 2, rate: 50}
	}
	if path := opts.String(optBenchCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		size.profile = f
	}
	pg := opts.String(optBenchPostgres)
	if pg != "" && !strings.HasPrefix(pg, "postgres://") && !strings.HasPrefix(pg, "postgresql://") {
		return usagef("--postgres: give a postgres:// URL")
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	fmt.Fprintf(stdout, "scorebridge bench: %d tickets, %v actions, %d instances on the simulator, %d clients\n",
		size.tickets, size.actions, size.instances, size.clients)
	dir, err := os.MkdirTemp("", "scorebridge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := benchBackend(ctx, "SQLite", filepath.Join(dir, "bench.db"), size, logger, stdout); err != nil {
		return fmt.Errorf("SQLite: %w", err)
	}
	if pg != "" {
		dsn, drop, err := benchSchema(ctx, pg)
		if err != nil {
			return err
		}
		defer drop()
		if err := benchBackend(ctx, "PostgreSQL", dsn, size, logger, stdout); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
	}
	return nil
}

// benchSchema makes a schema of the run's own on the PostgreSQL at base and
// returns base with its search_path pointing there, and how to drop it.
func benchSchema(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "scorebridge_bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("--postgres: create schema: %w", err)
	}
	drop := func() {
		admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// benchKey is a fresh encryption key for the run's connections.
func benchKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// ratio formats a/b as "2.3x".
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fx", float64(a)/float64(b))
}
