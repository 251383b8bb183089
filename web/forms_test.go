package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestUserRecommendationPages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := context.Background()

	form := url.Values{
		"title":              {"Review guest access quarterly"},
		"category":           {"Identity"},
		"description":        {"Guests pile up after projects end."},
		"remediation":        {"<ol><li>Open the access review.</li></ol>"},
		"service":            {"Entra ID"},
		"tier":               {"Core"},
		"userImpact":         {"Low"},
		"implementationCost": {"Moderate"},
		"threats":            {"Account breach\n\n  Elevation of privilege  \n"},
		"maxScore":           {"6"},
		"currentScore":       {"abc"},
	}
	// A bad number comes back with the error next to its field and every
	// typed value kept; nothing is stored.
	bad := b.postForm(t, "/actions", form).wantStatus(t, http.StatusBadRequest)
	bad.wantContains(t, "Current score must be a number", `value="abc"`, `value="Review guest access quarterly"`,
		"Guests pile up after projects end.", "&lt;ol&gt;&lt;li&gt;Open the access review.", `<option value="Identity" selected>`,
		`id="currentScore" name="currentScore" value="abc" inputmode="decimal" aria-invalid="true"`)
	if got := countUserRecs(t, b); got != 0 {
		t.Fatalf("a refused form stored %d actions", got)
	}
	// A rule the domain checks (current above max) is shown the same way.
	form.Set("currentScore", "7")
	b.postForm(t, "/actions", form).wantStatus(t, http.StatusBadRequest).wantContains(t, "currentScore must be between 0 and maxScore")
	form.Set("title", "  ")
	form.Set("currentScore", "1")
	b.postForm(t, "/actions", form).wantStatus(t, http.StatusBadRequest).wantContains(t, "title is required")
	if got := countUserRecs(t, b); got != 0 {
		t.Fatalf("refused forms stored %d actions", got)
	}

	form.Set("title", "Review guest access quarterly")
	created := b.postForm(t, "/actions", form).wantStatus(t, http.StatusSeeOther)
	loc := created.Header.Get("Location")
	if !strings.HasPrefix(loc, "/actions/user-") || !strings.HasSuffix(loc, "?done=created") {
		t.Fatalf("redirect to %q", loc)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/actions/"), "?done=created")
	rec, err := b.recs.FindRecommendationByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Source != scorebridge.SourceUser || rec.SourceTool != scorebridge.ToolUser || rec.MaxScore != 6 || rec.CurrentScore != 1 ||
		len(rec.Threats) != 2 || rec.Threats[1] != "Elevation of privilege" || rec.Service != "Entra ID" || rec.CreatedBy != DefaultUser.Name {
		t.Errorf("stored: %+v", rec)
	}
	b.get(t, loc).wantStatus(t, http.StatusOK).wantContains(t, "Action created.", "Review guest access quarterly", "Elevation of privilege",
		"<ol><li>Open the access review.</li></ol>")

	// Edit: the form is filled in; a bad value is refused and kept; a good
	// one is saved.
	edit := b.get(t, "/actions/"+id+"/edit").wantStatus(t, http.StatusOK)
	edit.wantContains(t, `value="Review guest access quarterly"`, "Account breach\nElevation of privilege", `value="6"`)
	form.Set("maxScore", "-3")
	b.postForm(t, "/actions/"+id+"/edit", form).wantStatus(t, http.StatusBadRequest).wantContains(t, "maxScore must be between", `value="-3"`)
	form.Set("maxScore", "9")
	form.Set("title", "Review guest access monthly")
	b.postForm(t, "/actions/"+id+"/edit", form).wantStatus(t, http.StatusSeeOther)
	if rec, err = b.recs.FindRecommendationByID(ctx, id); err != nil || rec.Title != "Review guest access monthly" || rec.MaxScore != 9 {
		t.Fatalf("after edit: %+v, %v", rec, err)
	}

	// Delete asks first, then deletes on POST.
	b.get(t, "/actions/"+id+"/delete").wantStatus(t, http.StatusOK).wantContains(t, "Review guest access monthly", "cannot be undone")
	if _, err := b.recs.FindRecommendationByID(ctx, id); err != nil {
		t.Fatal("the confirmation page deleted the action")
	}
	del := b.postForm(t, "/actions/"+id+"/delete", nil).wantStatus(t, http.StatusSeeOther)
	if del.Header.Get("Location") != "/actions?done=deleted" {
		t.Errorf("delete redirects to %q", del.Header.Get("Location"))
	}
	b.get(t, "/actions?done=deleted").wantContains(t, "Action deleted.")
	b.get(t, "/actions/"+id).wantStatus(t, http.StatusNotFound)

	// Catalog actions cannot be edited or deleted from the pages either.
	ms := catalogAction(t, b, scorebridge.RecommendationFilter{Source: scorebridge.SourceMicrosoft})
	b.postForm(t, "/actions/"+ms.ID+"/edit", form).wantStatus(t, http.StatusForbidden)
	b.postForm(t, "/actions/"+ms.ID+"/delete", nil).wantStatus(t, http.StatusForbidden)
	if got, err := b.recs.FindRecommendationByID(ctx, ms.ID); err != nil || got.Title != ms.Title {
		t.Errorf("catalog action changed: %+v, %v", got, err)
	}
}

func countUserRecs(t *testing.T, b *testBundle) int {
	t.Helper()
	items, _, err := b.recs.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Source: scorebridge.SourceUser, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestEditFormKeepsExactScores saves an edit form unchanged: scores with
// more decimals than the pages display must come back exactly.
func TestEditFormKeepsExactScores(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noCatalog: true})
	ctx := context.Background()
	rec := &scorebridge.Recommendation{ID: "user-third", Title: "Thirds", Category: scorebridge.CategoryApps,
		Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 3.333, CurrentScore: 3.333, State: scorebridge.StatePlanned}
	if err := b.recs.CreateRecommendation(ctx, rec); err != nil {
		t.Fatal(err)
	}
	b.get(t, "/actions/user-third/edit").wantStatus(t, http.StatusOK).wantContains(t, `value="3.333"`)
	f := formFromRecommendation(rec)
	form := url.Values{"title": {f.Title}, "category": {f.Category}, "maxScore": {f.MaxScore}, "currentScore": {f.CurrentScore}}
	b.postForm(t, "/actions/user-third/edit", form).wantStatus(t, http.StatusSeeOther)
	got, err := b.recs.FindRecommendationByID(ctx, "user-third")
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxScore != 3.333 || got.CurrentScore != 3.333 || got.State != scorebridge.StatePlanned {
		t.Errorf("after saving unchanged: max %g, current %g, state %s", got.MaxScore, got.CurrentScore, got.State)
	}
}
