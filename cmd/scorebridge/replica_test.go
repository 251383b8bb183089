package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/catalog"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/snowsim"
)

// Two replicas share the pace: the simulator allows simLimit requests a
// second (a token bucket per user, as the integration user's rate limit
// rule would) and each replica is told the fleet may send replicaRate, so
// two replicas pacing on their own would send twice that, above the limit.
const (
	replicaTickets = 500
	simLimit       = 25
	replicaRate    = 20
)

// TestTwoReplicasOneKilled runs two serve processes on one PostgreSQL
// database, shares 500 actions through both, kills one (SIGKILL) while the
// tickets are being sent, and checks that the instance holds exactly 500
// tickets, each sent once, that the two together never overran its rate
// limit (no 429 at all, and the busiest second measured), and that the
// survivor still syncs: a change made on the instance after the kill is seen.
func TestTwoReplicasOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("the replica test builds and runs the binary; skipped with -short")
	}
	base := dbtest.PostgresURL()
	if base == "" {
		t.Skipf("%s is not set: the replica test needs PostgreSQL", dbtest.PostgresEnv)
	}
	t.Parallel()
	dsn := dbtest.PostgresSchema(t, base, "replicas")

	sim, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	meter := &rateMeter{next: sim}
	simSrv := httptest.NewServer(meter)
	t.Cleanup(simSrv.Close)
	t.Cleanup(func() { sim.Close() })

	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"SCOREBRIDGE_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key), fmt.Sprintf("SCOREBRIDGE_SERVICENOW_RPS=%d", replicaRate)}
	bin := buildScorebridge(t)
	dir := t.TempDir()
	var replicas []*chaosCenter
	for i := range 2 {
		c := &chaosCenter{t: t, bin: bin, db: dsn, addr: freeAddr(t), logPath: filepath.Join(dir, fmt.Sprintf("replica%d.log", i)), env: env}
		replicas = append(replicas, c)
		t.Cleanup(c.kill)
		t.Cleanup(func() {
			if t.Failed() {
				b, _ := os.ReadFile(c.logPath)
				t.Logf("replica %d log (last 6 KB):\n%s", i, tail(b, 6<<10))
			}
		})
	}
	a, b := replicas[0], replicas[1]
	a.token = a.createToken()
	b.token = a.token // one database, one token for both
	a.start()
	b.start()
	a.connect(simSrv.URL)

	// The limit counts from here: connecting is not what this test is about.
	if err := sim.SetRateLimitPerSecond(simLimit); err != nil {
		t.Fatal(err)
	}
	meter.reset()

	recs, err := catalog.Recommendations()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, replicaTickets)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < replicaTickets; i += 8 {
				body := map[string]any{"recommendationId": recs[i%len(recs)].ID, "type": "incident", "name": fmt.Sprintf("Replica %d", i), "priority": 3}
				if err := replicas[i%2].call(http.MethodPost, "/api/v1/tickets", body, http.StatusAccepted, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%s: %d tickets shared through both replicas", time.Since(began).Round(time.Second), replicaTickets)

	count := func(c *chaosCenter, status string) int {
		var list struct{ Items []struct{} }
		c.api(http.MethodGet, fmt.Sprintf("/api/v1/tickets?status=%s&limit=%d", status, replicaTickets), nil, http.StatusOK, &list)
		return len(list.Items)
	}
	waitFor(t, 90*time.Second, "a third of the tickets sent", func() bool { return count(a, "sent") >= replicaTickets/3 })
	t.Logf("%s: %d tickets sent; killing replica 1", time.Since(began).Round(time.Second), count(a, "sent"))
	b.kill()

	// The jobs the killed replica was running are rescued by the survivor's
	// River once they could no longer be running anywhere.
	waitFor(t, 8*time.Minute, "every ticket sent by the survivor", func() bool { return count(a, "queued") == 0 })
	t.Logf("%s: every ticket sent", time.Since(began).Round(time.Second))
	if n := count(a, "sent"); n != replicaTickets {
		t.Errorf("%d tickets sent, want %d (the rest failed)", n, replicaTickets)
	}

	rs, err := sim.Query("incident", "correlation_display=scorebridge")
	if err != nil {
		t.Fatal(err)
	}
	byRequest := map[string]snowsim.Record{}
	for _, r := range rs {
		if prev, dup := byRequest[r["correlation_id"]]; dup {
			t.Errorf("request %s sent twice: %s and %s", r["correlation_id"], prev["number"], r["number"])
		}
		byRequest[r["correlation_id"]] = r
	}
	if len(rs) != replicaTickets || len(byRequest) != replicaTickets {
		t.Errorf("the instance holds %d tickets for %d requests, want %d", len(rs), len(byRequest), replicaTickets)
	}

	limited, busiest := meter.figures()
	t.Logf("rate: busiest second %d requests begun (requests bunched in transit count here; the instance's bucket of %d absorbs them) against the limit of %d a second, the replicas told %d together; %d answered 429",
		busiest, simLimit, simLimit, replicaRate, limited)
	if limited != 0 {
		t.Errorf("the instance answered 429 %d times: the replicas together overran its rate limit", limited)
	}

	// The survivor keeps syncing: a change made on the instance now is seen.
	var tk struct {
		Items []struct {
			ID    string `json:"id"`
			SysID string `json:"sysId"`
			State string `json:"state"`
		}
	}
	a.api(http.MethodGet, "/api/v1/tickets?status=sent&limit=1", nil, http.StatusOK, &tk)
	if len(tk.Items) != 1 {
		t.Fatal("no sent ticket listed")
	}
	if _, err := sim.Update("incident", tk.Items[0].SysID, map[string]string{"state": "2"}); err != nil {
		t.Fatal(err)
	}
	var conns struct{ Items []struct{ ID string } }
	a.api(http.MethodGet, "/api/v1/connections", nil, http.StatusOK, &conns)
	if len(conns.Items) != 1 {
		t.Fatalf("%d connections, want 1", len(conns.Items))
	}
	a.api(http.MethodPost, "/api/v1/connections/"+conns.Items[0].ID+"/sync", nil, http.StatusOK, nil)
	var after struct {
		State string `json:"state"`
	}
	a.api(http.MethodGet, "/api/v1/tickets/"+tk.Items[0].ID, nil, http.StatusOK, &after)
	if after.State != "2" {
		t.Errorf("after the kill the survivor's sync left the ticket in state %q, want 2 (In Progress) as on the instance", after.State)
	}
}

// rateMeter stands in front of the simulator and counts, for the Table
// API, the 429 answers and the most requests begun within any one second.
type rateMeter struct {
	next http.Handler

	mu      sync.Mutex
	at      []time.Time
	limited int
}

func (m *rateMeter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at, m.limited = nil, 0
}

func (m *rateMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
	began := time.Now()
	m.next.ServeHTTP(rec, r)
	if !strings.HasPrefix(r.URL.Path, "/api/now/") {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at = append(m.at, began)
	if rec.code == http.StatusTooManyRequests {
		m.limited++
	}
}

// figures returns the 429s and the busiest one-second window.
func (m *rateMeter) figures() (limited, busiest int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := append([]time.Time(nil), m.at...)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	for i := range at {
		for at[i].Sub(at[j]) >= time.Second {
			j++
		}
		busiest = max(busiest, i-j+1)
	}
	return m.limited, busiest
}

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (r *codeRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}
