package servicenow

import (
	"net/http"
	"strings"
	"time"
)

// CallObserver is told of every call the client makes: the instance (its
// host), the endpoint (Endpoint) and the status code, 0 when no answer came.
type CallObserver func(instance, endpoint string, code int, d time.Duration)

// observedTransport reports each round trip to observe.
type observedTransport struct {
	base    http.RoundTripper
	observe CallObserver
}

func (t *observedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	code := 0
	if err == nil {
		code = resp.StatusCode
	}
	t.observe(req.URL.Host, Endpoint(req.URL.Path), code, time.Since(start))
	return resp, err
}

// Endpoint names the API a path calls, never the record: "table/incident"
// for /api/now/table/incident/<sys_id>, "stats/task" for the Aggregate API,
// "batch" for the Batch API, "oauth_token" for /oauth_token.do. Its values
// are few (the APIs and the tables the center uses), so it suits a metric's
// label.
func Endpoint(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/now/")
	if !ok {
		name, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		return strings.TrimSuffix(name, ".do")
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 1 && len(parts[0]) == 2 && parts[0][0] == 'v' {
		parts = parts[1:] // a versioned API: /api/now/v1/batch
	}
	switch {
	case len(parts) >= 2 && (parts[0] == "table" || parts[0] == "stats" || parts[0] == "attachment"):
		return parts[0] + "/" + parts[1]
	default:
		return parts[0]
	}
}
