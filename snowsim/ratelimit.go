package snowsim

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// RateLimitRule is one inbound REST API rate limit rule, as in the Rate
// Limit Rules [sys_rate_limit_rules] table (inbound-REST-API-rate-limiting.md).
// The simulator keeps rules through the Go API (AddRateLimitRule,
// SetRateLimitPerHour) and the --rate-limit-per-hour flag, not as Table API
// rows; unlike a real node, which commits its counts every 30 seconds, it
// enforces a new rule from the next request. Counts reset at the top of each
// hour of the instance clock.
// A rule applies to a single user (User), to users with a role (Role), or to
// all users (neither). Rules for a single user override rules for users with
// a role, which override rules for all users; among several rules at the same
// level, the one allowing the fewest requests applies.
type RateLimitRule struct {
	// SysID identifies the rule in the X-RateLimit-Rule header. AddRateLimitRule
	// assigns one when empty.
	SysID string
	// Name is the rule's name, e.g. "Limit Incidents".
	Name string
	// API is the REST API the rule covers: "Table API", "Aggregate API",
	// "Batch API"; empty for every REST API.
	API string
	// Method limits the rule to one HTTP method; empty for every method.
	Method string
	// User is the user_name of a Single user rule.
	User string
	// Role is the role of a Users with role rule.
	Role string
	// RequestsPerHour is how many requests each user may make per hour.
	RequestsPerHour int
}

// rateLimiter enforces the rules per user per clock hour, and the optional
// requests-per-second token bucket, with the instance's clock.
type rateLimiter struct {
	clock func() time.Time

	mu      sync.Mutex
	rules   []RateLimitRule
	counts  map[string]*hourCount // by rule sys_id + "|" + user sys_id
	perSec  float64
	buckets map[string]*bucket // by user sys_id
}

type hourCount struct {
	hour time.Time
	n    int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(clock func() time.Time) *rateLimiter {
	return &rateLimiter{clock: clock, counts: map[string]*hourCount{}, buckets: map[string]*bucket{}}
}

var apiPath = regexp.MustCompile(`^/api/now/(?:v[12]/)?(table|stats|batch)(?:/|$)`)

// apiName names the REST API of a request path the way the rate limit
// message does ("Rate limit of 10 requests per hour for Table API exceeded").
func apiName(path string) string {
	m := apiPath.FindStringSubmatch(path)
	if m == nil {
		return "REST API"
	}
	return map[string]string{"table": "Table API", "stats": "Aggregate API", "batch": "Batch API"}[m[1]]
}

// ruleFor picks the rule that applies to s for this request, by the
// documented priority; nil when none matches.
func (rl *rateLimiter) ruleFor(api, method string, s *Session) *RateLimitRule {
	var user, role, all *RateLimitRule
	lower := func(cur *RateLimitRule, r *RateLimitRule) *RateLimitRule {
		if cur == nil || r.RequestsPerHour < cur.RequestsPerHour {
			return r
		}
		return cur
	}
	for i := range rl.rules {
		r := &rl.rules[i]
		if (r.API != "" && r.API != api) || (r.Method != "" && r.Method != method) {
			continue
		}
		switch {
		case r.User != "":
			if r.User == s.UserName {
				user = lower(user, r)
			}
		case r.Role != "":
			// Exactly the role: admin does not inherit every rate limit.
			if s.Roles[r.Role] {
				role = lower(role, r)
			}
		default:
			all = lower(all, r)
		}
	}
	switch {
	case user != nil:
		return user
	case role != nil:
		return role
	}
	return all
}

// hook is the RequestHook that counts and refuses requests.
func (rl *rateLimiter) hook(w http.ResponseWriter, r *http.Request, s *Session) bool {
	api := apiName(r.URL.Path)
	now := rl.clock()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.perSec > 0 {
		if wait, ok := rl.takeToken(s.UserID+"|"+s.UserName, now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			writeError(w, errRateLimited(fmt.Sprintf("Rate limit of %s requests per second for %s exceeded", formatRate(rl.perSec), api)))
			return true
		}
	}
	rule := rl.ruleFor(api, r.Method, s)
	if rule == nil {
		return false
	}
	hour := now.Truncate(time.Hour)
	reset := hour.Add(time.Hour)
	key := rule.SysID + "|" + s.UserID + "|" + s.UserName
	c := rl.counts[key]
	if c == nil || !c.hour.Equal(hour) {
		c = &hourCount{hour: hour}
		rl.counts[key] = c
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rule.RequestsPerHour))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Rule", rule.SysID)
	if c.n >= rule.RequestsPerHour {
		h.Set("Retry-After", strconv.Itoa(ceilSeconds(reset.Sub(now))))
		writeError(w, errRateLimited(fmt.Sprintf("Rate limit of %d requests per hour for %s exceeded", rule.RequestsPerHour, api)))
		return true
	}
	c.n++
	return false
}

// takeToken takes one token from the user's bucket, or says how many whole
// seconds to wait for the next one.
func (rl *rateLimiter) takeToken(key string, now time.Time) (int, bool) {
	burst := math.Max(1, math.Ceil(rl.perSec))
	b := rl.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		rl.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*rl.perSec)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := time.Duration((1 - b.tokens) / rl.perSec * float64(time.Second))
	return ceilSeconds(wait), false
}

func ceilSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

func formatRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// errRateLimited is the documented 429 body.
func errRateLimited(detail string) *APIError {
	return &APIError{Status: http.StatusTooManyRequests, Message: "Rate limit exceeded", Detail: detail}
}

// AddRateLimitRule adds a rate limit rule and returns its sys_id. It is safe
// while serving; like a real instance's, a rule counts from the moment it
// exists.
func (in *Instance) AddRateLimitRule(rule RateLimitRule) (string, error) {
	if rule.RequestsPerHour < 0 {
		return "", fmt.Errorf("snowsim: rate limit rule %q: requests per hour must not be negative", rule.Name)
	}
	if rule.User != "" && rule.Role != "" {
		return "", fmt.Errorf("snowsim: rate limit rule %q: a rule is for a single user or for a role, not both", rule.Name)
	}
	if rule.SysID == "" {
		rule.SysID = newSysID()
	}
	rl := in.ext.limits
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.rules = append(rl.rules, rule)
	return rule.SysID, nil
}

// RateLimitRules returns the rules in force.
func (in *Instance) RateLimitRules() []RateLimitRule {
	rl := in.ext.limits
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return append([]RateLimitRule(nil), rl.rules...)
}

// ClearRateLimitRules removes every rule and its counts.
func (in *Instance) ClearRateLimitRules() {
	rl := in.ext.limits
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.rules = nil
	clear(rl.counts)
}

// ResetRateLimits sets every rule's count back to zero, as the rule's Reset
// action does on a real instance (reset-rest-api-rate-limits.md).
func (in *Instance) ResetRateLimits() {
	rl := in.ext.limits
	rl.mu.Lock()
	defer rl.mu.Unlock()
	clear(rl.counts)
}

// SetRateLimitPerHour replaces the rules with one rule for all users and all
// REST APIs allowing n requests per user per hour; 0 removes every rule.
func (in *Instance) SetRateLimitPerHour(n int) error {
	if n < 0 {
		return fmt.Errorf("snowsim: requests per hour must not be negative")
	}
	in.ClearRateLimitRules()
	if n == 0 {
		return nil
	}
	_, err := in.AddRateLimitRule(RateLimitRule{Name: "Limit all users", RequestsPerHour: n})
	return err
}

// SetRateLimitPerSecond sets a token bucket of r requests per second per
// user (burst: r rounded up), a test knob finer than any ServiceNow rule; 0
// turns it off. A refused request is a 429 with Retry-After and the same
// body as the hourly rules'.
func (in *Instance) SetRateLimitPerSecond(r float64) error {
	if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return fmt.Errorf("snowsim: requests per second must be a positive number or 0")
	}
	rl := in.ext.limits
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.perSec = r
	clear(rl.buckets)
	return nil
}
