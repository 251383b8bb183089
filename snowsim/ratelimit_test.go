package snowsim_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

func rateLimitBody(t *testing.T, p page) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal([]byte(p.body), &body); err != nil {
		t.Fatalf("429 body is not JSON: %s", p.body)
	}
	return body
}

func TestRateLimitPerHourHeadersAndRefusal(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	// 12:00:00 on the instance clock; the hour resets at 13:00:00.
	e.clock.Advance(20 * time.Minute)
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("no rule, yet rate limit headers: %v", p.header)
	}
	id, err := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "Limit Incidents", API: "Table API", RequestsPerHour: 2})
	if err != nil {
		t.Fatal(err)
	}
	reset := strconv.FormatInt(time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC).Unix(), 10)
	for i := 0; i < 2; i++ {
		p := e.basic(t, http.MethodGet, "/api/now/table/incident", "")
		if p.status != http.StatusOK {
			t.Fatalf("request %d within the limit: %d", i+1, p.status)
		}
		for h, want := range map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Reset": reset, "X-RateLimit-Rule": id} {
			if got := p.header.Get(h); got != want {
				t.Errorf("request %d: %s = %q, want %q", i+1, h, got, want)
			}
		}
	}
	p := e.basic(t, http.MethodGet, "/api/now/table/incident", "")
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("third request: %d, want 429", p.status)
	}
	if got := p.header.Get("Retry-After"); got != "2400" {
		t.Errorf("Retry-After %q, want 2400 (40 minutes to the reset)", got)
	}
	want := map[string]any{"error": map[string]any{"message": "Rate limit exceeded",
		"detail": "Rate limit of 2 requests per hour for Table API exceeded"}, "status": "failure"}
	if got := rateLimitBody(t, p); !reflect.DeepEqual(got, want) {
		t.Errorf("429 body %v, want %v", got, want)
	}
	// Another API is not covered by the rule.
	if p := e.basic(t, http.MethodGet, "/api/now/stats/incident?sysparm_count=true", ""); p.status != http.StatusOK || p.header.Get("X-RateLimit-Rule") != "" {
		t.Errorf("Aggregate API under a Table API rule: %d %v", p.status, p.header)
	}
	// The next hour starts a new count.
	e.clock.Advance(40 * time.Minute)
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
		t.Fatalf("after the reset: %d", p.status)
	}
}

func TestRateLimitPriorityUserOverRoleOverAll(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	// All three rules apply to beth; the single-user one must win.
	e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "all", RequestsPerHour: 2})
	e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "itil", Role: "itil", RequestsPerHour: 5})
	user, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "beth", User: snowsim.UserITIL, RequestsPerHour: 10})
	tok := e.passwordGrant(t, snowsim.UserITIL, snowsim.DemoPassword)["access_token"].(string)
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", tok, ""); p.header.Get("X-RateLimit-Rule") != user {
		t.Errorf("single user rule should win: rule %q", p.header.Get("X-RateLimit-Rule"))
	}
	e.in.ClearRateLimitRules()
	all, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "all", RequestsPerHour: 2})
	itil, _ := e.in.AddRateLimitRule(snowsim.RateLimitRule{Name: "itil", Role: "itil", RequestsPerHour: 5})
	if p := e.api(t, http.MethodGet, "/api/now/table/incident", tok, ""); p.header.Get("X-RateLimit-Rule") != itil || p.header.Get("X-RateLimit-Limit") != "5" {
		t.Errorf("role rule should win over all users: %v", p.header)
	}
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.header.Get("X-RateLimit-Rule") != all {
		t.Errorf("admin has no itil role of its own: want the all-users rule, got %v", p.header)
	}
}

func TestRateLimitPerSecond(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{RateLimitPerSecond: 2})
	for i := 0; i < 2; i++ {
		if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, p.status)
		}
	}
	p := e.basic(t, http.MethodGet, "/api/now/table/incident", "")
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") != "1" {
		t.Fatalf("third request in the same second: %d Retry-After %q", p.status, p.header.Get("Retry-After"))
	}
	if body := rateLimitBody(t, p); body["status"] != "failure" || body["error"].(map[string]any)["message"] != "Rate limit exceeded" {
		t.Fatalf("429 body: %v", body)
	}
	if p.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("the per-second knob is no rule: no X-RateLimit headers, got %v", p.header)
	}
	e.clock.Advance(500 * time.Millisecond)
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
		t.Fatalf("after half a second at 2/s: %d", p.status)
	}
	if err := e.in.SetRateLimitPerSecond(0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
			t.Fatalf("knob off: %d", p.status)
		}
	}
}

func TestRateLimitPerHourKnob(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{RateLimitPerHour: 1})
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK || p.header.Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("first request: %d %v", p.status, p.header)
	}
	p := e.basic(t, http.MethodPost, "/api/now/table/incident", `{"short_description":"x"}`)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("second request: %d", p.status)
	}
	if rows, _ := e.in.Query("incident", "short_description=x"); len(rows) != 0 {
		t.Fatal("a refused request wrote its record")
	}
	e.in.ResetRateLimits()
	if p := e.basic(t, http.MethodGet, "/api/now/table/incident", ""); p.status != http.StatusOK {
		t.Fatalf("after ResetRateLimits: %d", p.status)
	}
}
