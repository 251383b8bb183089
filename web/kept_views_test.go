package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
)

// The home page is built once and answered from what was kept while the
// database does not change; a change shows on the very next request.
func TestHomeKeptUntilChange(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noCatalog: true, recs: []*scorebridge.Recommendation{testRecommendation("kept-1", "Kept page action")}})
	first := b.get(t, "/")
	first.wantStatus(t, http.StatusOK)
	if !strings.Contains(first.body, "Kept page action") {
		t.Fatalf("the to-do action is not on the home page:\n%s", first.body)
	}
	before := b.db.Statements()
	again := b.get(t, "/")
	if again.body != first.body {
		t.Fatal("the kept home page differs from the one built")
	}
	if n := b.db.Statements() - before; n != 0 {
		t.Fatalf("the kept home page ran %d statements, want 0", n)
	}

	done := scorebridge.StateCompleted
	if _, err := b.recs.UpdateRecommendation(context.Background(), "kept-1", scorebridge.RecommendationUpdate{State: &done}); err != nil {
		t.Fatal(err)
	}
	after := b.get(t, "/")
	if strings.Contains(after.body, "Kept page action") {
		t.Fatalf("the completed action is still a to-do on the home page: the kept page outlived the change")
	}
}

// The actions API answers from the kept body too, and a change shows at
// once.
func TestAPIRecommendationsKeptUntilChange(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noCatalog: true, recs: []*scorebridge.Recommendation{testRecommendation("kept-1", "Kept API action")}})
	path := "/api/v1/recommendations?limit=50"
	first := b.get(t, path)
	first.wantStatus(t, http.StatusOK)
	before := b.db.Statements()
	if again := b.get(t, path); again.body != first.body {
		t.Fatal("the kept body differs from the one built")
	}
	if n := b.db.Statements() - before; n != 0 {
		t.Fatalf("the kept answer ran %d statements, want 0", n)
	}
	title := "Renamed API action"
	rec := testRecommendation("kept-2", title)
	if err := b.recs.CreateRecommendation(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if after := b.get(t, path); !strings.Contains(after.body, title) {
		t.Fatalf("the new action is not in the list: the kept body outlived the change:\n%s", after.body)
	}
}

// What one role was shown is not shown to another; what was kept goes
// stale with time (keptViewTTL) and with any change, and what was built
// while a change committed is not kept at all.
func TestKeptViewsKeys(t *testing.T) {
	t.Parallel()
	version := uint64(1)
	live := true
	kv := newKeptViews(func() (uint64, bool) { return version, live })
	clock := clocktest.New(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	kv.now = clock.Now
	request := func(role, query string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/"+query, nil)
		return r.WithContext(scorebridge.NewContextWithUser(r.Context(), &scorebridge.User{ID: "u-" + role, Name: "n", Role: role}))
	}
	admin, reader := request(scorebridge.RoleAdmin, ""), request(scorebridge.RoleReader, "")
	kv.slot(admin, "home").keep(&keptView{body: []byte("admin's")})
	if got := kv.slot(admin, "home").kept(); got == nil || string(got.body) != "admin's" {
		t.Fatalf("kept for the admin: %v", got)
	}
	if got := kv.slot(reader, "home").kept(); got != nil {
		t.Fatalf("a reader was given the admin's view %q", got.body)
	}
	if got := kv.slot(request(scorebridge.RoleAdmin, "?type=incident"), "home").kept(); got != nil {
		t.Fatal("another query was given the view of the plain one")
	}
	if got := kv.slot(admin, "tickets").kept(); got != nil {
		t.Fatal("another page was given the home page's view")
	}

	clock.Advance(keptViewTTL)
	if got := kv.slot(admin, "home").kept(); got != nil {
		t.Fatal("a view older than keptViewTTL was given")
	}

	kv.slot(admin, "home").keep(&keptView{body: []byte("v1")})
	version++
	if got := kv.slot(admin, "home").kept(); got != nil {
		t.Fatal("a view kept before a change was given after it")
	}

	building := kv.slot(admin, "home")
	version++ // a change commits while the page is built
	building.keep(&keptView{body: []byte("mixed")})
	if got := kv.slot(admin, "home").kept(); got != nil {
		t.Fatalf("a view built across a change was kept: %q", got.body)
	}

	live = false // the count cannot be trusted: nothing is kept or given
	if s := kv.slot(admin, "home"); s != nil {
		t.Fatal("a slot was given while the change count was not live")
	}
}

// The kept views stay within keptViewsMax, the least recently used going
// first.
func TestKeptViewsBounded(t *testing.T) {
	t.Parallel()
	kv := newKeptViews(func() (uint64, bool) { return 1, true })
	r := func(q string) *http.Request { return httptest.NewRequest(http.MethodGet, "/tickets?"+q, nil) }
	kv.slot(r("first"), "tickets").keep(&keptView{body: []byte("first")})
	for i := range keptViewsMax {
		if i == keptViewsMax/2 {
			kv.slot(r("first"), "tickets") // used: moves to the front
		}
		kv.slot(r("q="+strings.Repeat("x", i)), "tickets").keep(&keptView{body: []byte("x")})
	}
	if n := kv.order.Len(); n != keptViewsMax {
		t.Fatalf("%d views kept, want %d", n, keptViewsMax)
	}
	if kv.slot(r("first"), "tickets").kept() == nil {
		t.Fatal("the view used recently was dropped before older ones")
	}
	if kv.slot(r("q="), "tickets").kept() != nil {
		t.Fatal("the least recently used view was kept past the bound")
	}
}
