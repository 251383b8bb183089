package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

type simBasic struct{ url string }

func (s simBasic) ConnectedInstance(ctx context.Context, id string) (*scorebridge.ConnectedInstance, error) {
	return &scorebridge.ConnectedInstance{ConnectionID: id, BaseURL: s.url, HTTPClient: &http.Client{Transport: basicRT{}}}, nil
}

type basicRT struct{}

func (basicRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth("admin", "admin")
	return http.DefaultTransport.RoundTrip(r)
}

// TestTrackingEndpoints drives the push endpoint over HTTP (signed, then
// replayed and unsigned), the business rule page, Sync now and the summary.
func TestTrackingEndpoints(t *testing.T) {
	b := connectionSetup(t)
	ctx := context.Background()
	conn, err := b.svc.CreateConnection(ctx, scorebridge.ConnectionCreate{Instance: b.simURL, ClientID: "cid", ClientSecret: "csecret"})
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store := sqlstore.NewTrackingStore(b.db, box)
	trk, err := tracking.New(tracking.Config{Store: store, Instances: simBasic{b.simURL}, Recommendations: b.recs,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Recommendations: b.recs, Scores: b.scores, Connections: b.svc, Tracking: trk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), User: DefaultUser, DataVersion: b.db.Version})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	// A sent ticket whose record is on the simulator.
	tickets := sqlstore.NewTicketStore(b.db)
	tk := &scorebridge.Ticket{ID: "t1", RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Fix", Priority: 3, RequestedBy: "admin"}
	if err := tickets.InsertTickets(ctx, []*scorebridge.Ticket{tk}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rec, err := b.sim.Insert("incident", map[string]string{"short_description": "Fix", "correlation_id": "t1", "correlation_display": "scorebridge"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tickets.MarkTicketSent(ctx, "t1", sqlstore.TicketResult{Number: rec["number"], SysID: rec["sys_id"], State: "1", StateName: "New"}, nil); err != nil {
		t.Fatal(err)
	}

	page := get(t, ts, "/connections/"+conn.ID+"/tracking")
	if !strings.Contains(page, "/api/v1/connections/"+conn.ID+"/push") || !strings.Contains(page, "generateMac") {
		t.Fatal("the tracking page shows no business rule script with its endpoint")
	}
	secretValue, err := store.PushSecret(ctx, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"table":"incident","operation":"update","sys_id":"` + rec["sys_id"] + `","sys_mod_count":"4","record":{"state":"2","sys_updated_on":"2026-12-01 10:00:00"}}`)
	ts1 := strconv.FormatInt(time.Now().Unix(), 10)
	push := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/connections/"+conn.ID+"/push", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(tracking.HeaderTimestamp, ts1)
			req.Header.Set(tracking.HeaderSignature, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := push(""); st != http.StatusUnauthorized {
		t.Fatalf("unsigned push answered %d, want 401", st)
	}
	sig := tracking.Sign(secretValue, ts1, body)
	if st := push(sig); st != http.StatusNoContent {
		t.Fatalf("signed push answered %d, want 204", st)
	}
	if st := push(sig); st != http.StatusConflict {
		t.Fatalf("replayed push answered %d, want 409", st)
	}
	if got, _ := tickets.FindTicketByID(ctx, "t1"); got.State != "2" || got.StateName != "In Progress" {
		t.Fatalf("after the push the ticket is %q %q", got.State, got.StateName)
	}

	resp, err := http.Post(ts.URL+"/api/v1/connections/"+conn.ID+"/sync", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sync answered %d", resp.StatusCode)
	}
	if sum := get(t, ts, "/api/v1/tickets/summary"); !strings.Contains(sum, `"incident":{"byState":[{"state":"`) {
		t.Fatalf("summary %s", sum)
	}
}

func get(t *testing.T, ts *httptest.Server, path string) string {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}
