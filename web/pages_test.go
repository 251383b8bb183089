package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scorebridge/scorebridge"
)

func TestTemplatesParse(t *testing.T) {
	t.Parallel()
	s := &Server{}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		t.Fatal(err)
	}
	set, err := parseTemplates(templateFS, s.templateFuncs())
	if err != nil {
		t.Fatalf("embedded templates: %v", err)
	}
	for _, page := range []string{"home", "connections", "actions", "action", "action_form", "action_delete", "error"} {
		if set.pages[page] == nil {
			t.Errorf("page %q not parsed", page)
		}
	}

	// A broken page must fail the parse, and so start-up, not a request.
	broken := fstest.MapFS{
		"templates/layout.html":        {Data: []byte(`{{template "content" .}}`)},
		"templates/partials/x.html":    {Data: []byte(`{{define "x"}}x{{end}}`)},
		"templates/pages/broken.html":  {Data: []byte(`{{define "content"}}{{if .X}}{{end}}`)},
		"templates/pages/unknown.html": {Data: []byte(`{{define "content"}}{{noSuchFunc}}{{end}}`)},
	}
	if _, err := parseTemplates(broken, s.templateFuncs()); err == nil {
		t.Fatal("broken templates parsed without error")
	}
	noContent := fstest.MapFS{
		"templates/layout.html":     {Data: []byte(`{{template "content" .}}`)},
		"templates/partials/x.html": {Data: []byte(`{{define "x"}}x{{end}}`)},
		"templates/pages/p.html":    {Data: []byte(`hello`)},
	}
	if _, err := parseTemplates(noContent, s.templateFuncs()); err == nil || !strings.Contains(err.Error(), "content") {
		t.Fatalf("page without content: err = %v", err)
	}
}

func TestNewServerRequiresServices(t *testing.T) {
	t.Parallel()
	if _, err := NewServer(Config{}); err == nil {
		t.Fatal("NewServer with no services succeeded")
	}
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := context.Background()
	if _, err := b.scores.SnapshotScore(ctx); err != nil {
		t.Fatal(err)
	}
	identity := catalogAction(t, b, scorebridge.RecommendationFilter{Category: scorebridge.CategoryIdentity})
	user := &scorebridge.Recommendation{ID: "user-render", Title: "Review break-glass accounts", Category: scorebridge.CategoryIdentity,
		Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 5, State: scorebridge.StateToAddress}
	if err := b.recs.CreateRecommendation(ctx, user); err != nil {
		t.Fatal(err)
	}

	home := b.get(t, "/").wantStatus(t, http.StatusOK)
	home.wantContains(t, "Secure Score", "Score by category", "Do you use ServiceNow?", `href="/connections"`, "Connect to ServiceNow",
		"Top improvement actions", "<polyline", "(1 snapshot)")
	for _, c := range scorebridge.Categories {
		home.wantContains(t, `href="/actions?category=`+string(c)+`"`)
	}

	b.get(t, "/connections").wantStatus(t, http.StatusOK).wantContains(t, "No instance connected yet", "integration user")

	list := b.get(t, "/actions").wantStatus(t, http.StatusOK)
	list.wantContains(t, "Improvement actions", `href="/actions/new"`, "New action", "To-do only", "Score impact")
	if n := len(rowIDs(list.body)); n != pageLimit {
		t.Errorf("first page shows %d rows, want %d", n, pageLimit)
	}

	detail := b.get(t, "/actions/"+identity.ID).wantStatus(t, http.StatusOK)
	detail.wantContains(t, template_escape(identity.Title), "Change state", "History", "Source record", "<details", "<pre",
		"Microsoft recommendation", `action="/actions/`+identity.ID+`/state"`)
	detail.wantNotContains(t, `/edit"`, `/delete"`) // catalog actions cannot be edited

	b.get(t, "/actions/user-render").wantStatus(t, http.StatusOK).
		wantContains(t, "User recommendation", `href="/actions/user-render/edit"`, `href="/actions/user-render/delete"`)
	b.get(t, "/actions/new").wantStatus(t, http.StatusOK).wantContains(t, `action="/actions"`, `name="title"`, `name="maxScore"`)
	b.get(t, "/actions/user-render/edit").wantStatus(t, http.StatusOK).wantContains(t, `value="Review break-glass accounts"`)
	b.get(t, "/actions/user-render/delete").wantStatus(t, http.StatusOK).wantContains(t, "Delete this action?", `method="post"`)

	// Unknown pages answer with the error page in the same layout.
	nf := b.get(t, "/actions/no-such-action").wantStatus(t, http.StatusNotFound)
	nf.wantContains(t, "Improvement actions", "404")
	b.get(t, "/nowhere").wantStatus(t, http.StatusNotFound).wantContains(t, "Page not found.")
	b.get(t, "/actions/"+identity.ID+"/edit").wantStatus(t, http.StatusForbidden)

	for _, r := range []*response{home, list, detail, nf} {
		if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", r.Request.URL.Path, ct)
		}
		checkSecurityHeaders(t, r)
	}
}

// template_escape returns s as html/template writes it in text.
func template_escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func checkSecurityHeaders(t *testing.T, r *response) {
	t.Helper()
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", r.Request.URL.Path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP %q allows inline code", r.Request.URL.Path, csp)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", r.Request.URL.Path, got)
	}
	if got := r.Header.Get("Referrer-Policy"); got == "" {
		t.Errorf("%s: no Referrer-Policy", r.Request.URL.Path)
	}
}

var assetRE = regexp.MustCompile(`(?:href|src)="(/static/[0-9a-f]+/([a-z]+\.(?:css|js)))"`)

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noCatalog: true})
	home := b.get(t, "/").wantStatus(t, http.StatusOK)
	matches := assetRE.FindAllStringSubmatch(home.body, -1)
	if len(matches) != 3 {
		t.Fatalf("found %d hashed assets in the layout, want app.css, app.js and share.js", len(matches))
	}
	for _, m := range matches {
		r := b.get(t, m[1]).wantStatus(t, http.StatusOK)
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", m[1], cc)
		}
		wantType := map[string]string{"app.css": "text/css", "app.js": "text/javascript", "share.js": "text/javascript"}[m[2]]
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Errorf("%s: Content-Type %q, want %s", m[1], ct, wantType)
		}
		if len(r.body) == 0 {
			t.Errorf("%s: empty", m[1])
		}
		// An old hash must not serve today's content under a cached URL.
		b.get(t, "/static/0000000000000000/"+m[2]).wantStatus(t, http.StatusNotFound)
	}
}

func TestActionListFiltersSortAndPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := context.Background()
	all, _, err := b.recs.FindRecommendations(ctx, scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*scorebridge.Recommendation{}
	for _, r := range all {
		byID[r.ID] = r
	}

	// Paging: following "Next page" visits every action exactly once;
	// following "Previous page" back from the last shows each page again,
	// with the sort kept in the URL, and the first page offers none.
	for _, start := range []string{"/actions", "/actions?sort=title"} {
		seen := map[string]bool{}
		var pages [][]string
		for path := start; path != ""; {
			r := b.get(t, path).wantStatus(t, http.StatusOK)
			ids := rowIDs(r.body)
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("action %s shown on two pages", id)
				}
				seen[id] = true
			}
			if len(pages) > 0 {
				r.wantContains(t, "First page")
				if prevLink(r.body) == "" {
					t.Fatalf("page %d of %s has no Previous page", len(pages), start)
				}
			} else if prevLink(r.body) != "" {
				t.Fatalf("the first page of %s offers a Previous page", start)
			}
			pages = append(pages, ids)
			if path = nextLink(r.body); path == "" {
				path = prevLink(r.body)
				for i := len(pages) - 2; i >= 0; i-- {
					if path == "" {
						t.Fatalf("%s: no Previous page back to page %d", start, i)
					}
					if strings.Contains(start, "sort=title") && !strings.Contains(path, "sort=title") {
						t.Fatalf("Previous page %q drops the sort", path)
					}
					back := b.get(t, path).wantStatus(t, http.StatusOK)
					if got := rowIDs(back.body); !slices.Equal(got, pages[i]) {
						t.Fatalf("%s: Previous page to page %d shows %v, want %v", start, i, got, pages[i])
					}
					if next := nextLink(back.body); next == "" {
						t.Fatalf("%s: page %d read back has no Next page", start, i)
					}
					path = prevLink(back.body)
				}
				if path != "" {
					t.Fatalf("%s: the first page read back offers a Previous page %q", start, path)
				}
				break
			}
		}
		if len(seen) != len(all) || len(pages) < 2 {
			t.Fatalf("paging %s showed %d of %d actions in %d pages", start, len(seen), len(all), len(pages))
		}
	}

	// Filters: every row matches.
	filters := []struct {
		query string
		match func(*scorebridge.Recommendation) bool
	}{
		{"category=Data", func(r *scorebridge.Recommendation) bool { return r.Category == scorebridge.CategoryData }},
		{"category=devices", func(r *scorebridge.Recommendation) bool { return r.Category == scorebridge.CategoryDevices }},
		{"source=microsoft", func(r *scorebridge.Recommendation) bool { return r.Source == scorebridge.SourceMicrosoft }},
		{"state=to_address&category=Identity", func(r *scorebridge.Recommendation) bool {
			return r.State == scorebridge.StateToAddress && r.Category == scorebridge.CategoryIdentity
		}},
	}
	for _, f := range filters {
		ids := rowIDs(b.get(t, "/actions?"+f.query).wantStatus(t, http.StatusOK).body)
		if len(ids) == 0 {
			t.Errorf("%s: no rows", f.query)
		}
		for _, id := range ids {
			if !f.match(byID[id]) {
				t.Errorf("%s: row %s does not match", f.query, id)
			}
		}
	}

	// Text search finds an action by a word of its title.
	target := all[len(all)/2]
	word := strings.Fields(target.Title)[0]
	ids := rowIDs(b.get(t, "/actions?sort=title&q="+url.QueryEscape(target.Title)).body)
	if !slices.Contains(ids, target.ID) {
		t.Errorf("search %q (%s) did not find %s: %v", target.Title, word, target.ID, ids)
	}

	// Sort by title is alphabetical; sort by impact puts the most points
	// still to win first.
	ids = rowIDs(b.get(t, "/actions?sort=title").body)
	for i := 1; i < len(ids); i++ {
		if strings.ToLower(byID[ids[i-1]].Title) > strings.ToLower(byID[ids[i]].Title) {
			t.Errorf("sort=title: %q before %q", byID[ids[i-1]].Title, byID[ids[i]].Title)
		}
	}
	ids = rowIDs(b.get(t, "/actions").body)
	for i := 1; i < len(ids); i++ {
		if byID[ids[i-1]].ScoreImpact() < byID[ids[i]].ScoreImpact() {
			t.Errorf("default sort: impact %g before %g", byID[ids[i-1]].ScoreImpact(), byID[ids[i]].ScoreImpact())
		}
	}
	// A state change moves an action out of "to-do only" and into its state.
	accepted := catalogAction(t, b, scorebridge.RecommendationFilter{Category: scorebridge.CategoryApps})
	b.postForm(t, "/actions/"+accepted.ID+"/state", url.Values{"state": {"risk_accepted"}}).wantStatus(t, http.StatusSeeOther)
	todo := b.get(t, "/actions?todo=true&category=Apps").wantStatus(t, http.StatusOK)
	if slices.Contains(rowIDs(todo.body), accepted.ID) {
		t.Errorf("risk-accepted action %s still on the to-do list", accepted.ID)
	}
	todo.wantContains(t, `value="true" data-autosubmit checked`)
	if ids := rowIDs(b.get(t, "/actions?state=risk_accepted").body); !slices.Equal(ids, []string{accepted.ID}) {
		t.Errorf("state=risk_accepted shows %v, want [%s]", ids, accepted.ID)
	}

	// The filter form keeps what was chosen.
	b.get(t, "/actions?category=Data&sort=title&q=mfa").wantContains(t, `<option value="Data" selected>`, `<option value="title" selected>`, `value="mfa"`)

	// A bad filter gets a clear error page, not a 500.
	b.get(t, "/actions?category=Bogus").wantStatus(t, http.StatusBadRequest).wantContains(t, "category must be one of")
	b.get(t, "/actions?cursor=garbage").wantStatus(t, http.StatusBadRequest)
}
