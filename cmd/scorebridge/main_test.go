package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startCenter runs the real wiring on a free port with a fresh SQLite file and
// stops it when the test ends.
func startCenter(t *testing.T, dbPath string) *center {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := openCenter(ctx, centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	registerTestToken(t, c)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("center stopped with %v", err)
		}
	})
	return c
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := testGet(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestServeShowsCatalogAndScore(t *testing.T) {
	t.Parallel()
	c := startCenter(t, filepath.Join(t.TempDir(), "center.db"))

	if code := getJSON(t, c.URL()+"/healthz", nil); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	var score struct {
		CurrentScore, MaxScore, Percent float64
		Categories                      []struct{ Category string }
	}
	getJSON(t, c.URL()+"/api/v1/score", &score)
	if score.MaxScore <= 0 || len(score.Categories) != 5 {
		t.Fatalf("a new center must show the catalog's score, got %+v", score)
	}
	var list struct {
		Items []struct{ ID, Title string }
		Next  string
	}
	getJSON(t, c.URL()+"/api/v1/recommendations?limit=5", &list)
	if len(list.Items) != 5 || list.Next == "" {
		t.Fatalf("catalog list = %+v", list)
	}
	resp, err := testGet(c.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Secure Score") {
		t.Fatalf("home page lacks the Secure Score card")
	}
}

// A restart must keep what the admin did and must not load the catalog twice.
func TestServeRestartKeepsStates(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	var before struct{ Items []struct{ ID string } }
	{
		ctx, cancel := context.WithCancel(context.Background())
		c, err := openCenter(ctx, centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		registerTestToken(t, c)
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		if code := getJSON(t, c.URL()+"/api/v1/recommendations?limit=200", &before); code != http.StatusOK || len(before.Items) == 0 {
			t.Fatalf("list = %d with %d items", code, len(before.Items))
		}
		req, _ := http.NewRequest(http.MethodPatch, c.URL()+"/api/v1/recommendations/"+before.Items[0].ID, strings.NewReader(`{"state":"risk_accepted"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", c.URL())
		authorizeTestRequest(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH state = %d", resp.StatusCode)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	c := startCenter(t, dbPath)
	var after struct{ Items []struct{ ID, State string } }
	getJSON(t, c.URL()+"/api/v1/recommendations?limit=200", &after)
	if len(after.Items) != len(before.Items) {
		t.Fatalf("restart changed the number of actions: %d then %d", len(before.Items), len(after.Items))
	}
	var rec struct{ State string }
	getJSON(t, c.URL()+"/api/v1/recommendations/"+before.Items[0].ID, &rec)
	if rec.State != "risk_accepted" {
		t.Fatalf("state after restart = %q, want risk_accepted", rec.State)
	}
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "" }
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"serve", "--addr", "nonsense"}, 2, "not host:port"},
		{[]string{"serve", "--log-format", "xml"}, 2, "text or json"},
		{[]string{"serve", "extra"}, 2, "no arguments"},
		{[]string{"serve", "--db", "/nonexistent-dir/x/y.db", "--addr", "127.0.0.1:0"}, 1, "database"},
		{[]string{"version"}, 0, ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, env, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.want) {
			t.Errorf("run(%q) = %d, output %q; want %d containing %q", tt.args, code, stdout.String()+stderr.String(), tt.code, tt.want)
		}
	}
}

func TestServeReadsEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SCOREBRIDGE_ADDR": "bad-address", "SCOREBRIDGE_DB": "x.db"}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "bad-address") {
		t.Fatalf("SCOREBRIDGE_ADDR not used: code %d, %q", code, stderr.String())
	}
}

// A second serve on the SQLite file of a running center is refused with the
// first one's pid; once the first stops, serve starts again.
func TestSecondServeOnOneSQLiteFileRefused(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	ctx, cancel := context.WithCancel(context.Background())
	c, err := openCenter(ctx, centerConfig{Addr: "127.0.0.1:0", DB: dbPath, LogFormat: "text"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--db", dbPath, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), fmt.Sprintf("in use by another scorebridge process (pid %d)", os.Getpid())) {
		t.Fatalf("second serve: exit %d, %q", code, stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	startCenter(t, dbPath)
}

// The database file removed under a running center: readiness fails and
// says why, where before the center went on "sending" into a lost file.
func TestReadyzFailsWhenTheDatabaseFileIsRemoved(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "center.db")
	c := startCenter(t, dbPath)
	var ready struct{ Status, Reason string }
	if code := getJSON(t, c.URL()+"/readyz", &ready); code != http.StatusOK || ready.Status != "ready" {
		t.Fatalf("readyz before = %d %+v", code, ready)
	}
	if err := os.Remove(dbPath); err != nil {
		t.Fatal(err)
	}
	if code := getJSON(t, c.URL()+"/readyz", &ready); code != http.StatusServiceUnavailable || !strings.Contains(ready.Reason, "removed") {
		t.Fatalf("readyz after the file was removed = %d %+v", code, ready)
	}
	// Liveness stays: the process is alive, restarting it would not help.
	if code := getJSON(t, c.URL()+"/healthz", nil); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
}
