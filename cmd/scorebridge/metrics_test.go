package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge/catalog"
)

// TestMetricsFedByActivity shares an action, waits for its ticket job to
// complete, syncs, and scrapes /metrics: the calls to the instance by
// instance, endpoint and status, the ticket job's latency by kind and
// outcome, and the connection's sync lag are all there.
func TestMetricsFedByActivity(t *testing.T) {
	t.Parallel()
	d := startTestDemo(t, filepath.Join(t.TempDir(), "scorebridge-demo.db"))
	registerTestToken(t, d.center)
	ctx := context.Background()
	completed, stop := d.center.jobs.Subscribe(river.EventKindJobCompleted)
	defer stop()

	recs, err := catalog.Recommendations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.center.conns.FindConnectionByID(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string, body any, want int) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, d.center.URL()+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		authorizeTestRequest(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s = %d, want %d: %s", path, resp.StatusCode, want, data)
		}
	}
	post("/api/v1/tickets", map[string]any{"recommendationId": recs[0].ID, "type": "incident", "name": "Metrics", "priority": 3}, http.StatusAccepted)
	for sent := false; !sent; {
		select {
		case ev := <-completed:
			sent = ev.Job.Kind == "create_ticket"
		case <-time.After(30 * time.Second):
			t.Fatal("the ticket job did not complete within 30 s")
		}
	}
	post("/api/v1/connections/"+conn.ID+"/sync", nil, http.StatusOK)

	resp, err := testGet(d.center.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics = %d", resp.StatusCode)
	}
	sim, _ := url.Parse(d.simURL)
	for _, want := range []string{
		`scorebridge_servicenow_request_duration_seconds_count{code="201",endpoint="table/incident",instance="` + sim.Host + `"} 1`,
		`scorebridge_servicenow_request_duration_seconds_count{code="200",endpoint="table/task",instance="` + sim.Host + `"}`,
		`scorebridge_job_duration_seconds_count{kind="create_ticket",outcome="ok"} 1`,
		`scorebridge_sync_lag_seconds{connection="` + conn.ID + `",instance="` + conn.InstanceURL + `"}`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		for line := range strings.Lines(string(body)) {
			if strings.HasPrefix(line, "scorebridge_") && strings.Contains(line, "_count") || strings.HasPrefix(line, "scorebridge_sync") {
				t.Log(strings.TrimSpace(line))
			}
		}
	}
}
