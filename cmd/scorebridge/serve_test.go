package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
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
