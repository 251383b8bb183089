package servicenow_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/servicenow"
)

// These cases replay answer shapes from ServiceNow's Table API reference; the
// end-to-end behaviour is covered against the simulator elsewhere.
func TestClientDecodesAnswerShapes(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/now/table/incident/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sysparm_exclude_reference_link") != "true" {
			t.Errorf("reference links not excluded: %s", r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"result":{"sys_id":"` + r.PathValue("id") + `","number":"INC0010001","caller_id":{"link":"https://x/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441","value":"6816f79cc0a8016401c5a33be04be441"},"assignment_group":""}}`))
	})
	mux.HandleFunc("GET /api/now/table/incident", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Count", "2")
		w.Write([]byte(`{"result":[{"sys_id":"a"},{"sys_id":"b"}]}`))
	})
	mux.HandleFunc("POST /api/now/table/nosuch", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"message":"Invalid table nosuch","detail":null},"status":"failure"}`))
	})
	mux.HandleFunc("POST /api/now/table/incident", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 10 requests per hour for Table API exceeded"},"status":"failure"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := servicenow.NewClient(srv.URL+"/", srv.Client())
	ctx := context.Background()

	rec, err := c.Get(ctx, "incident", "abc")
	if err != nil {
		t.Fatal(err)
	}
	if rec.SysID() != "abc" || rec["caller_id"] != "6816f79cc0a8016401c5a33be04be441" || rec["assignment_group"] != "" {
		t.Fatalf("record = %v", rec)
	}
	list, total, err := c.List(ctx, "incident", servicenow.ListOptions{Query: "active=true"})
	if err != nil || len(list) != 2 || total != 2 {
		t.Fatalf("list = %v, %d, %v", list, total, err)
	}

	_, err = c.Create(ctx, "nosuch", map[string]string{"a": "b"})
	se, ok := err.(*servicenow.Error)
	if !ok || se.StatusCode != 400 || se.Message != "Invalid table nosuch" || se.Detail != "" || se.Temporary() {
		t.Fatalf("invalid table error = %#v", err)
	}
	_, err = c.Create(ctx, "incident", map[string]string{"short_description": "x"})
	se, ok = err.(*servicenow.Error)
	if !ok || se.StatusCode != 429 || se.RetryAfter != 7*time.Second || !se.Temporary() {
		t.Fatalf("rate limit error = %#v", err)
	}
}

func TestEndpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/api/now/table/incident":                  "table/incident",
		"/api/now/table/change_request/0123abcdef": "table/change_request",
		"/api/now/v1/batch":                        "batch",
		"/api/now/stats/task":                      "stats/task",
		"/api/now/v2/table/task":                   "table/task",
		"/oauth_token.do":                          "oauth_token",
		"/oauth_revoke_token.do":                   "oauth_revoke_token",
		"/":                                        "",
	} {
		if got := servicenow.Endpoint(path); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", path, got, want)
		}
	}
}
