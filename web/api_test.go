package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestAPIScore(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := context.Background()
	want, err := b.scores.CurrentScore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := b.get(t, "/api/v1/score").wantStatus(t, http.StatusOK)
	checkSecurityHeaders(t, r)
	var got map[string]any
	r.decode(t, &got)
	for _, key := range []string{"currentScore", "maxScore", "percent", "categories"} {
		if _, ok := got[key]; !ok {
			t.Errorf("score lacks %q: %s", key, r.body)
		}
	}
	var score scorebridge.Score
	r.decode(t, &score)
	if !reflect.DeepEqual(score, want) {
		t.Errorf("score = %+v, want %+v", score, want)
	}
	if len(score.Categories) != len(scorebridge.Categories) || score.MaxScore <= 0 {
		t.Errorf("score has %d categories, max %g", len(score.Categories), score.MaxScore)
	}
	cat := got["categories"].([]any)[0].(map[string]any)
	for _, key := range []string{"category", "currentScore", "maxScore", "percent"} {
		if _, ok := cat[key]; !ok {
			t.Errorf("category score lacks %q", key)
		}
	}

	// History: empty at first, one item after a snapshot.
	var hist listResponse[scorebridge.ScoreSnapshot]
	b.get(t, "/api/v1/score/history").wantStatus(t, http.StatusOK).decode(t, &hist)
	if len(hist.Items) != 0 || hist.Next != "" {
		t.Errorf("history before any snapshot: %+v", hist)
	}
	if !strings.Contains(b.get(t, "/api/v1/score/history?days=7").body, `"items":[]`) {
		t.Error("an empty history must be [] not null")
	}
	if _, err := b.scores.SnapshotScore(ctx); err != nil {
		t.Fatal(err)
	}
	b.get(t, "/api/v1/score/history?days=7").wantStatus(t, http.StatusOK).decode(t, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Score.MaxScore != want.MaxScore || hist.Items[0].Day == "" {
		t.Errorf("history after a snapshot: %+v", hist)
	}
}

func TestAPIRecommendationListAndPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})

	var first listResponse[map[string]any]
	b.get(t, "/api/v1/recommendations?limit=3").wantStatus(t, http.StatusOK).decode(t, &first)
	if len(first.Items) != 3 || first.Next == "" {
		t.Fatalf("limit=3: %d items, next %q", len(first.Items), first.Next)
	}
	item := first.Items[0]
	for _, key := range []string{"id", "title", "description", "remediation", "category", "source", "sourceTool", "service", "tier",
		"userImpact", "implementationCost", "threats", "maxScore", "currentScore", "state", "createdBy", "createdAt", "updatedAt",
		"sourceLabel", "stateLabel", "earnedScore", "scoreImpact"} {
		if _, ok := item[key]; !ok {
			t.Errorf("item lacks %q", key)
		}
	}
	if item["sourceLabel"] != "Microsoft recommendation" || item["stateLabel"] != "To address" {
		t.Errorf("labels: %v / %v", item["sourceLabel"], item["stateLabel"])
	}

	// Walking the cursor returns every action once, then next = "".
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		q := url.Values{"limit": {"7"}, "sort": {"title"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page listResponse[recommendationItem]
		b.get(t, "/api/v1/recommendations?"+q.Encode()).wantStatus(t, http.StatusOK).decode(t, &page)
		for _, it := range page.Items {
			if seen[it.ID] {
				t.Fatalf("%s returned twice", it.ID)
			}
			seen[it.ID] = true
		}
		pages++
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	all, _, err := b.recs.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(all) || pages < 5 {
		t.Fatalf("cursor walk saw %d of %d in %d pages", len(seen), len(all), pages)
	}

	// Filters combine.
	var data listResponse[recommendationItem]
	b.get(t, "/api/v1/recommendations?category=data&source=microsoft&state=to_address&todo=true&limit=200").wantStatus(t, http.StatusOK).decode(t, &data)
	if len(data.Items) == 0 {
		t.Fatal("no Data actions")
	}
	for _, it := range data.Items {
		if it.Category != scorebridge.CategoryData || it.Source != scorebridge.SourceMicrosoft || it.State != scorebridge.StateToAddress {
			t.Errorf("filtered item %s: %s/%s/%s", it.ID, it.Category, it.Source, it.State)
		}
	}
}

func TestAPIStateChangeHistory(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	rec := catalogAction(t, b, scorebridge.RecommendationFilter{Category: scorebridge.CategoryDevices})
	path := "/api/v1/recommendations/" + rec.ID

	before := b.get(t, "/api/v1/score").wantStatus(t, http.StatusOK)
	var scoreBefore scorebridge.Score
	before.decode(t, &scoreBefore)

	var item recommendationItem
	b.sendJSON(t, http.MethodPatch, path, `{"state":"third_party","stateNote":"Covered by the EDR vendor"}`).wantStatus(t, http.StatusOK).decode(t, &item)
	if item.State != scorebridge.StateThirdParty || item.StateLabel != "Resolved through third party" || item.EarnedScore != rec.MaxScore || item.ScoreImpact != 0 {
		t.Errorf("after PATCH: state %s (%s), earned %g, impact %g", item.State, item.StateLabel, item.EarnedScore, item.ScoreImpact)
	}
	var scoreAfter scorebridge.Score
	b.get(t, "/api/v1/score").decode(t, &scoreAfter)
	if scoreAfter.CurrentScore <= scoreBefore.CurrentScore {
		t.Errorf("score did not rise: %g -> %g", scoreBefore.CurrentScore, scoreAfter.CurrentScore)
	}

	// The page's form records a second change.
	b.postForm(t, "/actions/"+rec.ID+"/state", url.Values{"state": {"planned"}, "note": {"Back to us after the vendor review"}}).
		wantStatus(t, http.StatusSeeOther)

	var hist listResponse[scorebridge.StateChange]
	b.get(t, path+"/history").wantStatus(t, http.StatusOK).decode(t, &hist)
	if len(hist.Items) != 2 {
		t.Fatalf("history has %d changes, want 2: %+v", len(hist.Items), hist.Items)
	}
	newest, oldest := hist.Items[0], hist.Items[1]
	if oldest.From != rec.State || oldest.To != scorebridge.StateThirdParty || oldest.Note != "Covered by the EDR vendor" {
		t.Errorf("first change: %+v", oldest)
	}
	if newest.From != scorebridge.StateThirdParty || newest.To != scorebridge.StatePlanned || newest.Note != "Back to us after the vendor review" {
		t.Errorf("second change: %+v", newest)
	}
	for _, c := range hist.Items {
		if c.ChangedBy != DefaultUser.Name || c.ChangedAt.IsZero() {
			t.Errorf("change without who/when: %+v", c)
		}
	}

	// The detail page shows the history with who, when, from, to and note.
	page := b.get(t, "/actions/"+rec.ID+"?done=state").wantStatus(t, http.StatusOK)
	page.wantContains(t, "State changed.", "Covered by the EDR vendor", "Back to us after the vendor review",
		"Resolved through third party", "<td>"+DefaultUser.Name+"</td>", formatTime(newest.ChangedAt))

	// A bad state in the form is refused on the page, note kept.
	bad := b.postForm(t, "/actions/"+rec.ID+"/state", url.Values{"state": {"done"}, "note": {"typed note"}}).wantStatus(t, http.StatusBadRequest)
	bad.wantContains(t, "Choose a state.", "typed note")
	b.get(t, path+"/history").decode(t, &hist)
	if len(hist.Items) != 2 {
		t.Errorf("a refused state change was recorded: %d changes", len(hist.Items))
	}
}

func TestAPIUserRecommendationLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})

	created := b.sendJSON(t, http.MethodPost, "/api/v1/recommendations", `{
		"title": "Rotate the shared VPN pre-shared key",
		"description": "The site-to-site VPN uses a key set in 2021.",
		"remediation": "<p>Rotate the key on both gateways.</p>",
		"category": "Infrastructure",
		"service": "Network",
		"threats": ["Credential theft"],
		"maxScore": 8,
		"currentScore": 2
	}`).wantStatus(t, http.StatusCreated)
	var item recommendationItem
	created.decode(t, &item)
	if !strings.HasPrefix(item.ID, "user-") || item.Source != scorebridge.SourceUser || item.SourceTool != scorebridge.ToolUser ||
		item.SourceLabel != "User recommendation" || item.State != scorebridge.StateToAddress || item.CreatedBy != DefaultUser.Name || item.CreatedAt.IsZero() {
		t.Errorf("created item: %+v", item)
	}
	loc := created.Header.Get("Location")
	if loc != "/api/v1/recommendations/"+item.ID {
		t.Fatalf("Location %q", loc)
	}
	var got recommendationItem
	b.get(t, loc).wantStatus(t, http.StatusOK).decode(t, &got)
	if got.Title != "Rotate the shared VPN pre-shared key" || got.MaxScore != 8 || got.CurrentScore != 2 || got.ScoreImpact != 6 {
		t.Errorf("read back: %+v", got)
	}

	// An explicit id and source "user" are accepted; a taken id conflicts.
	b.sendJSON(t, http.MethodPost, "/api/v1/recommendations", `{"id":"user-vpn-2","title":"Second","category":"Apps","source":"user","maxScore":1}`).
		wantStatus(t, http.StatusCreated)
	e := b.sendJSON(t, http.MethodPost, "/api/v1/recommendations", `{"id":"user-vpn-2","title":"Again","category":"Apps","maxScore":1}`).
		wantStatus(t, http.StatusConflict).apiError(t)
	if e.Code != scorebridge.ECONFLICT {
		t.Errorf("conflict code %q", e.Code)
	}

	b.sendJSON(t, http.MethodPatch, loc, `{"title":"Rotate the VPN key","threats":[],"maxScore":10}`).wantStatus(t, http.StatusOK).decode(t, &got)
	if got.Title != "Rotate the VPN key" || got.MaxScore != 10 || len(got.Threats) != 0 || got.Service != "Network" {
		t.Errorf("after PATCH: %+v", got)
	}

	b.do(t, http.MethodDelete, loc, "", "").wantStatus(t, http.StatusNoContent)
	b.get(t, loc).wantStatus(t, http.StatusNotFound)
	b.do(t, http.MethodDelete, loc, "", "").wantStatus(t, http.StatusNotFound)

	// Catalog actions: only state and achieved score may change, and they
	// cannot be deleted.
	ms := catalogAction(t, b, scorebridge.RecommendationFilter{Source: scorebridge.SourceMicrosoft})
	msPath := "/api/v1/recommendations/" + ms.ID
	b.sendJSON(t, http.MethodPatch, msPath, `{"title":"Renamed"}`).wantStatus(t, http.StatusForbidden)
	b.do(t, http.MethodDelete, msPath, "", "").wantStatus(t, http.StatusForbidden)
	b.get(t, msPath).decode(t, &got)
	if got.Title != ms.Title {
		t.Errorf("catalog title changed to %q", got.Title)
	}
}

// TestAPIBadInput sends malformed and invalid requests; each must get a 4xx
// JSON error naming the field (where there is one), and none may write.
func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := context.Background()
	userRec := &scorebridge.Recommendation{ID: "user-fixed", Title: "Keep me", Category: scorebridge.CategoryData,
		Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 10, CurrentScore: 5, State: scorebridge.StateToAddress, Threats: []string{}}
	if err := b.recs.CreateRecommendation(ctx, userRec); err != nil {
		t.Fatal(err)
	}
	ms := catalogAction(t, b, scorebridge.RecommendationFilter{Source: scorebridge.SourceMicrosoft})
	snapshot := func() string {
		all, _, err := b.recs.FindRecommendations(ctx, scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage, Sort: scorebridge.SortTitle})
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for _, r := range all {
			fmt.Fprintf(&sb, "%+v\n", *r)
			changes, err := b.recs.FindStateChanges(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&sb, "changes=%d\n", len(changes))
		}
		return sb.String()
	}
	before := snapshot()

	const (
		list   = "/api/v1/recommendations"
		user   = "/api/v1/recommendations/user-fixed"
		jsonCT = "application/json"
	)
	valid := `"title":"T","category":"Data","maxScore":5`
	huge := `{"title":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	cases := []struct {
		name         string
		method, path string
		contentType  string
		body         string
		status       int
		field        string
	}{
		{"no content type", "POST", list, "", `{` + valid + `}`, 415, ""},
		{"form content type", "POST", list, "application/x-www-form-urlencoded", "title=T", 415, ""},
		{"text/plain on PATCH", "PATCH", user, "text/plain", `{"title":"x"}`, 415, ""},
		{"body too large", "POST", list, jsonCT, huge, 413, ""},
		{"empty body", "POST", list, jsonCT, ``, 400, ""},
		{"malformed JSON", "POST", list, jsonCT, `{"title":`, 400, ""},
		{"not an object", "POST", list, jsonCT, `["title"]`, 400, ""},
		{"trailing data", "POST", list, jsonCT, `{` + valid + `} {"x":1}`, 400, ""},
		{"duplicate member", "POST", list, jsonCT, `{` + valid + `,"title":"U"}`, 400, "title"},
		{"unknown field", "POST", list, jsonCT, `{` + valid + `,"colour":"red"}`, 400, "colour"},
		{"read-only field", "POST", list, jsonCT, `{` + valid + `,"createdBy":"mallory"}`, 400, "createdBy"},
		{"source microsoft", "POST", list, jsonCT, `{` + valid + `,"source":"microsoft"}`, 400, "source"},
		{"title wrong type", "POST", list, jsonCT, `{"title":42,"category":"Data","maxScore":5}`, 400, "title"},
		{"title null", "POST", list, jsonCT, `{"title":null,"category":"Data","maxScore":5}`, 400, "title"},
		{"title missing", "POST", list, jsonCT, `{"category":"Data","maxScore":5}`, 400, "title"},
		{"title blank", "POST", list, jsonCT, `{"title":"   ","category":"Data","maxScore":5}`, 400, "title"},
		{"title too long", "POST", list, jsonCT, `{"title":"` + strings.Repeat("x", scorebridge.MaxTitleLength+1) + `","category":"Data","maxScore":5}`, 400, "title"},
		{"bad category", "POST", list, jsonCT, `{"title":"T","category":"Network","maxScore":5}`, 400, "category"},
		{"category missing", "POST", list, jsonCT, `{"title":"T","maxScore":5}`, 400, "category"},
		{"maxScore as string", "POST", list, jsonCT, `{"title":"T","category":"Data","maxScore":"5"}`, 400, "maxScore"},
		{"maxScore negative", "POST", list, jsonCT, `{"title":"T","category":"Data","maxScore":-1}`, 400, "maxScore"},
		{"maxScore too big", "POST", list, jsonCT, `{"title":"T","category":"Data","maxScore":1e9}`, 400, "maxScore"},
		{"currentScore above max", "POST", list, jsonCT, `{` + valid + `,"currentScore":6}`, 400, "currentScore"},
		{"threats not array", "POST", list, jsonCT, `{` + valid + `,"threats":"phishing"}`, 400, "threats"},
		{"threats with a number", "POST", list, jsonCT, `{` + valid + `,"threats":["ok",7]}`, 400, "threats"},
		{"bad state", "POST", list, jsonCT, `{` + valid + `,"state":"done"}`, 400, "state"},
		{"bad id characters", "POST", list, jsonCT, `{` + valid + `,"id":"a b/c"}`, 400, "id"},
		{"id of a catalog action", "POST", list, jsonCT, `{` + valid + `,"id":"` + ms.ID + `"}`, 409, ""},
		{"NUL in description", "POST", list, jsonCT, `{` + valid + `,"description":"a\u0000b"}`, 400, "description"},
		{"PATCH empty object", "PATCH", user, jsonCT, `{}`, 400, ""},
		{"PATCH unknown field", "PATCH", user, jsonCT, `{"titel":"x"}`, 400, "titel"},
		{"PATCH id", "PATCH", user, jsonCT, `{"id":"user-other"}`, 400, "id"},
		{"PATCH source", "PATCH", user, jsonCT, `{"source":"microsoft"}`, 400, "source"},
		{"PATCH bad state", "PATCH", user, jsonCT, `{"state":"Completed!"}`, 400, "state"},
		{"PATCH note without state", "PATCH", user, jsonCT, `{"stateNote":"why"}`, 400, "stateNote"},
		{"PATCH note too long", "PATCH", user, jsonCT, `{"state":"planned","stateNote":"` + strings.Repeat("n", maxStateNoteLength+1) + `"}`, 400, "stateNote"},
		{"PATCH currentScore above max", "PATCH", user, jsonCT, `{"currentScore":11}`, 400, "currentScore"},
		{"PATCH maxScore below current", "PATCH", user, jsonCT, `{"maxScore":1}`, 400, "currentScore"},
		{"PATCH valid field then bad", "PATCH", user, jsonCT, `{"title":"Changed","maxScore":"ten"}`, 400, "maxScore"},
		{"PATCH unknown id", "PATCH", "/api/v1/recommendations/user-missing", jsonCT, `{"title":"x"}`, 404, ""},
		{"PATCH catalog title", "PATCH", "/api/v1/recommendations/" + ms.ID, jsonCT, `{"title":"x"}`, 403, ""},
		{"DELETE catalog action", "DELETE", "/api/v1/recommendations/" + ms.ID, "", ``, 403, ""},
		{"list bad limit", "GET", list + "?limit=0", "", ``, 400, "limit"},
		{"list limit too big", "GET", list + "?limit=100000", "", ``, 400, "limit"},
		{"list limit not a number", "GET", list + "?limit=ten", "", ``, 400, "limit"},
		{"list bad category", "GET", list + "?category=Network", "", ``, 400, "category"},
		{"list bad state", "GET", list + "?state=open", "", ``, 400, "state"},
		{"list bad source", "GET", list + "?source=graph", "", ``, 400, "source"},
		{"list bad sort", "GET", list + "?sort=random", "", ``, 400, "sort"},
		{"list bad todo", "GET", list + "?todo=maybe", "", ``, 400, "todo"},
		{"list bad cursor", "GET", list + "?cursor=not-a-cursor", "", ``, 400, "cursor"},
		{"list unknown parameter", "GET", list + "?catgory=Data", "", ``, 400, "catgory"},
		{"list repeated parameter", "GET", list + "?state=planned&state=completed", "", ``, 400, "state"},
		{"list query too long", "GET", list + "?q=" + strings.Repeat("q", scorebridge.MaxQueryLength+1), "", ``, 400, "q"},
		{"history days zero", "GET", "/api/v1/score/history?days=0", "", ``, 400, "days"},
		{"history days huge", "GET", "/api/v1/score/history?days=5000", "", ``, 400, "days"},
		{"history unknown parameter", "GET", "/api/v1/score/history?day=3", "", ``, 400, "day"},
		{"unknown recommendation", "GET", "/api/v1/recommendations/nope", "", ``, 404, ""},
		{"history of unknown", "GET", "/api/v1/recommendations/nope/history", "", ``, 404, ""},
		{"wrong method", "PUT", user, jsonCT, `{"title":"x"}`, 405, ""},
		{"unknown API path", "GET", "/api/v1/recommendation", "", ``, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, tc.method, tc.path, tc.contentType, tc.body).wantStatus(t, tc.status)
			e := r.apiError(t)
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (message %q)", e.Field, tc.field, e.Message)
			}
			if wantCode := codeForStatus(tc.status); e.Code != wantCode {
				t.Errorf("code %q, want %q", e.Code, wantCode)
			}
			if tc.field != "" && !strings.Contains(e.Message, tc.field) {
				t.Errorf("message %q does not name %q", e.Message, tc.field)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Errorf("bad requests changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if strings.Contains(b.logs.String(), "level=ERROR") {
		t.Errorf("bad input logged an error:\n%s", b.logs)
	}
}

// codeForStatus inverts the error table for the test's expectations.
func codeForStatus(status int) string {
	for code, s := range statusByCode {
		if s == status {
			return code
		}
	}
	return ""
}
