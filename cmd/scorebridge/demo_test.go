package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// startTestDemo starts the demo on free ports with its own database.
func startTestDemo(t *testing.T, dbPath string) *demo {
	t.Helper()
	return startTestDemoWith(t, dbPath, "")
}

// startTestDemoWith is startTestDemo with a known first admin password
// (empty for a generated one); the demo stops when the test ends.
func startTestDemoWith(t *testing.T, dbPath, adminPassword string) *demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}
	cfg.Connections.AllowPrivate = true
	cfg.Auth.AdminPassword = adminPassword
	d, err := startDemo(ctx, cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	})
	return d
}

// TestDemoIsConnected: the demo's center is genuinely connected to its
// simulator (a ticket-sized call goes through), the doctor command agrees,
// and starting the demo again on the same database connects again.
func TestDemoIsConnected(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "scorebridge-demo.db")
	d := startTestDemo(t, dbPath)
	ctx := context.Background()

	ci, err := d.center.conns.ConnectedInstance(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if ci.BaseURL != d.simURL {
		t.Fatalf("connected to %s, want the simulator %s", ci.BaseURL, d.simURL)
	}
	rec, err := servicenow.NewClient(ci.BaseURL, ci.HTTPClient).Create(ctx, "incident", map[string]string{"short_description": "Demo ticket"})
	if err != nil || rec.SysID() == "" {
		t.Fatalf("create an incident through the demo connection: %v", err)
	}
	c, _ := d.center.conns.FindConnectionByID(ctx, "")
	if c.Status != scorebridge.ConnectionConnected || c.IntegrationUser == "" {
		t.Fatalf("demo connection = %+v", c)
	}
	// The state names were read from the simulator's choice lists at connect.
	names, err := d.center.tracking.StateNames(ctx, c.ID)
	if err != nil || names.RefreshedAt.IsZero() || names.Labels["change_request"]["-4"].Label != "Assess" {
		t.Fatalf("state names after connecting: %+v, %v", names, err)
	}
	if fi, err := os.Stat(dbPath + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file next to the database: %v, %v; want 0600", fi, err)
	}

	doctor := func() (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"doctor", "--db", dbPath, "--public-url", d.center.URL(), "--allow-private-instances"}, func(string) string { return "" }, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := doctor(); code != 0 || !strings.Contains(out, "Every check passed") {
		t.Fatalf("scorebridge doctor exit %d:\n%s", code, out)
	}
	d.sim.SetSSO(true)
	code, out := doctor()
	if code != 1 || !strings.Contains(out, "[FAIL] Single sign-on") || !strings.Contains(out, "side_door.do") || !strings.Contains(out, "1 check failed") {
		t.Fatalf("scorebridge doctor with SSO on: exit %d:\n%s", code, out)
	}
}

// TestDemoStartsAgainOnItsDatabase: the simulator keeps its data in
// memory, so a second start replaces the connection to the first one
// instead of keeping a dead one.
func TestDemoStartsAgainOnItsDatabase(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "scorebridge-demo.db")
	ctx := context.Background()
	var ids []string
	for i := 0; i < 2; i++ {
		runCtx, cancel := context.WithCancel(ctx)
		cfg := centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}
		cfg.Connections.AllowPrivate = true
		d, err := startDemo(runCtx, cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		all, err := d.center.conns.FindConnections(ctx)
		if err != nil || len(all) != 1 || all[0].Status != scorebridge.ConnectionConnected || all[0].InstanceURL != d.simURL {
			t.Fatalf("start %d: connections %v, %v", i, all, err)
		}
		ids = append(ids, all[0].ID)
		done := make(chan error, 1)
		go func() { done <- d.Run(runCtx) }()
		cancel()
		// Stopped before it finished starting: a cancelled start is fine.
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	if ids[0] == ids[1] {
		t.Fatal("the second start kept the connection to the first simulator")
	}
}

func TestDoctorCommandUsage(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	dbPath := filepath.Join(t.TempDir(), "empty.db")
	code := run(context.Background(), []string{"doctor", "--db", dbPath}, func(string) string { return "" }, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "No ServiceNow instance is connected yet") {
		t.Fatalf("doctor without a connection: exit %d, %q", code, errOut.String())
	}
	code = run(context.Background(), []string{"doctor", "--public-url", "ftp://x"}, func(string) string { return "" }, &out, &errOut)
	if code != 2 {
		t.Fatalf("doctor with a bad --public-url: exit %d", code)
	}
	code = run(context.Background(), []string{"demo", "--snow-addr", "nope"}, func(string) string { return "" }, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "--snow-addr") {
		t.Fatalf("demo with a bad --snow-addr: exit %d, %q", code, errOut.String())
	}
}
