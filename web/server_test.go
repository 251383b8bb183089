package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noCatalog: true})
	r := b.get(t, "/healthz").wantStatus(t, http.StatusOK)
	if strings.TrimSpace(r.body) != `{"status":"ok"}` {
		t.Errorf("healthz body %q", r.body)
	}
	b.db.Close()
	r = b.get(t, "/healthz").wantStatus(t, http.StatusServiceUnavailable)
	if strings.TrimSpace(r.body) != `{"status":"unavailable"}` {
		t.Errorf("healthz body %q", r.body)
	}
	if !strings.Contains(b.logs.String(), "health check failed") {
		t.Errorf("the failed check was not logged:\n%s", b.logs)
	}
}

func TestErrorTableCoversEveryCode(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		scorebridge.EINVALID: 400, scorebridge.EUNAUTHORIZED: 401, scorebridge.EFORBIDDEN: 403, scorebridge.ENOTFOUND: 404,
		scorebridge.ECONFLICT: 409, scorebridge.ETOOMANYREQUEST: 429, scorebridge.EINTERNAL: 500, scorebridge.EUNAVAILABLE: 503,
	}
	for code, status := range want {
		if got := errorStatusCode(code); got != status {
			t.Errorf("%s -> %d, want %d", code, got, status)
		}
	}
	if got := errorStatusCode("made_up"); got != 500 {
		t.Errorf("unknown code -> %d, want 500", got)
	}
}

// failingRecommendations is a store that fails the way a broken database
// does; the only stand-in in these tests, at the domain interface.
type failingRecommendations struct {
	scorebridge.RecommendationService
	err   error
	panic bool
}

func (f *failingRecommendations) FindRecommendationByID(context.Context, string) (*scorebridge.Recommendation, error) {
	if f.panic {
		panic("nil map in store")
	}
	return nil, f.err
}

func (f *failingRecommendations) FindRecommendations(context.Context, scorebridge.RecommendationFilter) ([]*scorebridge.Recommendation, string, error) {
	return nil, "", f.err
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	t.Parallel()
	secret := errors.New("dial tcp 10.0.0.5:5432: password authentication failed for user scorebridge password=hunter2")
	for _, panics := range []bool{false, true} {
		logs := &syncBuffer{}
		b := setup(t, setupOptions{noCatalog: true})
		srv, err := NewServer(Config{
			Recommendations: &failingRecommendations{RecommendationService: b.recs, err: secret, panic: panics},
			Scores:          b.scores,
			Logger:          slog.New(slog.NewTextHandler(logs, nil)),
			User:            DefaultUser,
		})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		for _, path := range []string{"/api/v1/recommendations/x", "/actions/x"} {
			resp, err := ts.Client().Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			r := &response{Response: resp, body: body}
			r.wantStatus(t, http.StatusInternalServerError)
			if !strings.Contains(body, "Internal error.") || strings.Contains(body, "hunter2") || strings.Contains(body, "nil map") {
				t.Errorf("%s (panic=%v): body %q", path, panics, body)
			}
			if strings.HasPrefix(path, "/api/") && r.apiError(t).Code != scorebridge.EINTERNAL {
				t.Errorf("%s: code %q", path, r.apiError(t).Code)
			}
		}
		want := "password authentication failed"
		if panics {
			want = "nil map in store"
		}
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the cause was not logged (panic=%v):\n%s", panics, logs)
		}
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	reader := setup(t, setupOptions{user: &scorebridge.User{ID: "r", Name: "rita", Role: scorebridge.RoleReader}})
	rec := catalogAction(t, reader, scorebridge.RecommendationFilter{})
	reader.get(t, "/").wantStatus(t, http.StatusOK)
	reader.get(t, "/api/v1/recommendations").wantStatus(t, http.StatusOK)
	e := reader.sendJSON(t, http.MethodPatch, "/api/v1/recommendations/"+rec.ID, `{"state":"planned"}`).wantStatus(t, http.StatusForbidden).apiError(t)
	if e.Code != scorebridge.EFORBIDDEN {
		t.Errorf("code %q", e.Code)
	}
	reader.sendJSON(t, http.MethodPost, "/api/v1/recommendations", `{"title":"x","category":"Data"}`).wantStatus(t, http.StatusForbidden)
	reader.postForm(t, "/actions/"+rec.ID+"/state", url.Values{"state": {"planned"}}).wantStatus(t, http.StatusForbidden)
	reader.get(t, "/actions/new").wantStatus(t, http.StatusForbidden)
	// Pages offer a reader only what a reader can do.
	reader.get(t, "/actions").wantNotContains(t, `href="/actions/new"`)
	reader.get(t, "/actions/"+rec.ID).wantStatus(t, http.StatusOK).wantNotContains(t, "Change state", `/state"`)
	reader.get(t, "/").wantContains(t, `<span class="who-name">rita</span> <span class="who-role">Security reader</span>`)

	operator := setup(t, setupOptions{user: &scorebridge.User{ID: "o", Name: "omar", Role: scorebridge.RoleOperator}})
	path := "/api/v1/recommendations/" + rec.ID
	operator.sendJSON(t, http.MethodPatch, path, `{"state":"planned","stateNote":"next sprint"}`).wantStatus(t, http.StatusOK)
	operator.sendJSON(t, http.MethodPatch, path, `{"state":"completed","title":"x"}`).wantStatus(t, http.StatusForbidden)
	var hist listResponse[scorebridge.StateChange]
	operator.get(t, path+"/history").decode(t, &hist)
	if len(hist.Items) != 1 || hist.Items[0].ChangedBy != "omar" {
		t.Errorf("history: %+v", hist.Items)
	}

	// No user at all (sign-in not passed) is 401, not 403.
	srv := &Server{logger: slog.New(slog.DiscardHandler), templates: operator.server.templates, assets: operator.server.assets}
	rr := httptest.NewRecorder()
	srv.requireRole(scorebridge.RoleReader, http.NotFoundHandler()).ServeHTTP(rr, httptest.NewRequest("GET", "/api/v1/score", nil))
	if rr.Code != http.StatusUnauthorized {
		t.Errorf("no user: %d, want 401", rr.Code)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	rec := catalogAction(t, b, scorebridge.RecommendationFilter{})
	for _, h := range []struct{ name, value string }{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example.com"}} {
		req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/actions/"+rec.ID+"/state", strings.NewReader("state=completed"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h.name, h.value)
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s -> %d, want 403", h.name, h.value, resp.StatusCode)
		}
	}
	if got, _ := b.recs.FindRecommendationByID(context.Background(), rec.ID); got.State != rec.State {
		t.Errorf("a cross-origin post changed the state to %s", got.State)
	}
	// The same post from the page itself goes through.
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/actions/"+rec.ID+"/state", strings.NewReader("state=completed"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin post -> %d, want 303", resp.StatusCode)
	}
}

func TestRequestLogAndFallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	b.get(t, "/actions?q=supersecret-search-term").wantStatus(t, http.StatusOK)
	b.sendJSON(t, http.MethodPost, "/api/v1/recommendations", `{"title":"body-secret-value","category":"Data","maxScore":1}`).wantStatus(t, http.StatusCreated)
	logs := b.logs.String()
	for _, want := range []string{"method=GET path=/actions status=200", "method=POST path=/api/v1/recommendations status=201", "duration="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"supersecret", "body-secret-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}

	// Wrong method on a page: 405 with Allow, as a page; on the API, JSON.
	r := b.do(t, http.MethodDelete, "/actions", "", "").wantStatus(t, http.StatusMethodNotAllowed)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow %q", allow)
	}
	r.wantContains(t, "<!DOCTYPE html>")
	e := b.do(t, http.MethodPost, "/api/v1/score", "application/json", "{}").wantStatus(t, http.StatusMethodNotAllowed).apiError(t)
	if e.Code != codeMethodNotAllowed {
		t.Errorf("code %q", e.Code)
	}
}
