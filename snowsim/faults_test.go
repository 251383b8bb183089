package snowsim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

func TestFaultErrorsAnswerLikeTheInstanceOrItsLoadBalancer(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{Faults: snowsim.Faults{ErrorRate: 1}, FaultSeed: 7})
	seen := map[int]bool{}
	for i := 0; i < 30; i++ {
		p := e.basic(t, http.MethodPost, "/api/now/table/incident", `{"short_description":"never written"}`)
		seen[p.status] = true
		switch p.status {
		case http.StatusInternalServerError:
			if !strings.Contains(p.body, `"status":"failure"`) {
				t.Errorf("500 without the error envelope: %s", p.body)
			}
		case http.StatusBadGateway, http.StatusServiceUnavailable:
			if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
				t.Errorf("%d from the load balancer should be HTML, got %q", p.status, p.header.Get("Content-Type"))
			}
		default:
			t.Fatalf("error rate 1 answered %d", p.status)
		}
	}
	if len(seen) != 3 {
		t.Errorf("30 faults gave only the statuses %v, want 500, 502 and 503", seen)
	}
	if rows, _ := e.in.Query("incident", "short_description=never written"); len(rows) != 0 {
		t.Fatalf("an injected error wrote %d records", len(rows))
	}
	// The OAuth endpoints and the login pages are spared unless asked.
	e.passwordGrant(t, "admin", "admin")
	if p := fetch(t, http.DefaultClient, http.MethodGet, e.srv.URL+"/login.do", nil); p.status != http.StatusOK {
		t.Fatalf("login page under faults: %d", p.status)
	}
	if err := e.in.SetFaults(snowsim.Faults{ErrorRate: 1, IncludeOAuth: true}); err != nil {
		t.Fatal(err)
	}
	status, _ := tokenStatus(t, e)
	if status < 500 {
		t.Fatalf("token endpoint with IncludeOAuth: %d", status)
	}
	if err := e.in.SetFaults(snowsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
		t.Fatalf("faults off: %d", p.status)
	}
}

func tokenStatus(t *testing.T, e *simEnv) (int, string) {
	t.Helper()
	p := fetch(t, http.DefaultClient, http.MethodPost, e.srv.URL+"/oauth_token.do", url.Values{"grant_type": {"password"},
		"client_id": {testClientID}, "client_secret": {testClientSecret}, "username": {"admin"}, "password": {"admin"}})
	return p.status, p.body
}

func TestDroppedResponseStillCommitsTheWrite(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{Faults: snowsim.Faults{DropRate: 1}})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/now/table/incident",
		strings.NewReader(`{"short_description":"lost answer","correlation_id":"req-42"}`))
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped response arrived: %d", res.StatusCode)
	}
	rows, qerr := e.in.Query("incident", "correlation_id=req-42")
	if qerr != nil || len(rows) != 1 {
		t.Fatalf("the write behind a dropped response: %d rows (%v), want 1", len(rows), qerr)
	}
}

func TestFaultSeedRepeatsTheSameFaults(t *testing.T) {
	t.Parallel()
	run := func() string {
		e := newSimEnv(t, snowsim.Knobs{Faults: snowsim.Faults{ErrorRate: 0.5}, FaultSeed: 42})
		var b strings.Builder
		for i := 0; i < 20; i++ {
			fmt.Fprint(&b, e.basic(t, http.MethodGet, "/api/now/table/incident?sysparm_limit=1", "").status, " ")
		}
		return b.String()
	}
	first, second := run(), run()
	if first != second {
		t.Fatalf("same seed, different faults:\n%s\n%s", first, second)
	}
	if !strings.Contains(first, "200") || (!strings.Contains(first, "500") && !strings.Contains(first, "502") && !strings.Contains(first, "503")) {
		t.Fatalf("error rate 0.5 over 20 requests gave %s", first)
	}
}

func TestLatencyDelaysWithoutChangingTheAnswer(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{Faults: snowsim.Faults{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond}})
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
		t.Fatalf("with latency: %d", p.status)
	}
	// A client that gives up during the delay gets nothing, and the
	// instance does not serve the abandoned request.
	if err := e.in.SetFaults(snowsim.Faults{Latency: time.Hour}); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"abandoned"}`))
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Content-Type", "application/json")
	if res, err := c.Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		t.Fatalf("an hour of latency answered %d", res.StatusCode)
	}
	if err := e.in.SetFaults(snowsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if rows, _ := e.in.Query("incident", "short_description=abandoned"); len(rows) != 0 {
		t.Fatal("an abandoned request was served")
	}
	if got := e.in.Faults(); got != (snowsim.Faults{}) {
		t.Fatalf("Faults() = %+v after clearing", got)
	}
}

func TestFaultsHitABatchAsAWhole(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{Faults: snowsim.Faults{DropRate: 1}, FaultSeed: 3})
	body := `{"batch_request_id":"b1","rest_requests":[{"id":"1","method":"POST","url":"/api/now/table/incident",` +
		`"headers":[{"name":"Content-Type","value":"application/json"},{"name":"Accept","value":"application/json"}],` +
		`"body":"eyJzaG9ydF9kZXNjcmlwdGlvbiI6ImJhdGNoZWQifQ=="}]}`
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/now/v1/batch", strings.NewReader(body))
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("dropped batch answered %d", res.StatusCode)
	}
	// The batch ran once, its item once: one incident, no abort midway.
	if rows, _ := e.in.Query("incident", "short_description=batched"); len(rows) != 1 {
		t.Fatalf("batched inserts: %d, want 1", len(rows))
	}
}
