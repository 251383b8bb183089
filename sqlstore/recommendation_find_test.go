package sqlstore_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// findIDs returns the ids of one page, failing the test on error.
func findIDs(t *testing.T, s scorebridge.RecommendationService, f scorebridge.RecommendationFilter) ([]string, string) {
	t.Helper()
	items, next, err := s.FindRecommendations(context.Background(), f)
	if err != nil {
		t.Fatalf("find %+v: %v", f, err)
	}
	ids := []string{}
	for _, r := range items {
		ids = append(ids, r.ID)
	}
	return ids, next
}

// seedFindFixture stores a small set that exercises every filter and sort.
func seedFindFixture(t *testing.T, db *sqlstore.DB, clock *clocktest.Clock) scorebridge.RecommendationService {
	t.Helper()
	s := sqlstore.NewRecommendationService(db)
	type row struct {
		id, title, desc, service string
		cat                      scorebridge.Category
		src                      scorebridge.Source
		state                    scorebridge.State
		max, cur                 float64
	}
	rows := []row{
		{"mfa", "Require MFA", "Stops 99% of attacks", "Entra ID", scorebridge.CategoryIdentity, scorebridge.SourceMicrosoft, scorebridge.StateToAddress, 10, 2},             // impact 8
		{"dlp", "Turn on DLP", "Data loss prevention", "Purview", scorebridge.CategoryData, scorebridge.SourceMicrosoft, scorebridge.StatePlanned, 8, 0},                     // impact 8
		{"bitlocker", "encrypt disks", "Use BitLocker", "Intune", scorebridge.CategoryDevices, scorebridge.SourceUser, scorebridge.StateToAddress, 5, 0},                     // impact 5
		{"oauth_apps", "Review OAuth apps", "Check app_consent settings", "Entra ID", scorebridge.CategoryApps, scorebridge.SourceUser, scorebridge.StateRiskAccepted, 9, 0}, // impact 0
		{"fw", "Firewall rules", "100% coverage", "Defender", scorebridge.CategoryInfrastructure, scorebridge.SourceMicrosoft, scorebridge.StateCompleted, 7, 7},             // impact 0
		{"audit", "Zebra audit log", "Keep audit logs", "Purview", scorebridge.CategoryData, scorebridge.SourceUser, scorebridge.StateThirdParty, 3, 1},                      // impact 0
		{"etat", "État des lieux", "Inventaire", "Défense", scorebridge.CategoryApps, scorebridge.SourceUser, scorebridge.StatePlanned, 4, 3.5},                              // impact 0.5
	}
	for _, r := range rows {
		rec := newRec("x")
		rec.ID, rec.Title, rec.Description, rec.Service = r.id, r.title, r.desc, r.service
		rec.Category, rec.Source, rec.State, rec.MaxScore, rec.CurrentScore = r.cat, r.src, r.state, r.max, r.cur
		if err := s.CreateRecommendation(context.Background(), rec); err != nil {
			t.Fatalf("create %s: %v", r.id, err)
		}
		clock.Advance(time.Second)
	}
	return s
}

func TestFindRecommendations_Filters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := seedFindFixture(t, db, clock)
		for _, tc := range []struct {
			name   string
			filter scorebridge.RecommendationFilter
			want   []string // in default (impact) order
		}{
			{"all", scorebridge.RecommendationFilter{}, []string{"dlp", "mfa", "bitlocker", "etat", "audit", "fw", "oauth_apps"}},
			{"category", scorebridge.RecommendationFilter{Category: scorebridge.CategoryData}, []string{"dlp", "audit"}},
			{"category any case", scorebridge.RecommendationFilter{Category: "apps"}, []string{"etat", "oauth_apps"}},
			{"source", scorebridge.RecommendationFilter{Source: scorebridge.SourceUser}, []string{"bitlocker", "etat", "audit", "oauth_apps"}},
			{"state", scorebridge.RecommendationFilter{State: scorebridge.StatePlanned}, []string{"dlp", "etat"}},
			{"to do", scorebridge.RecommendationFilter{ToDo: true}, []string{"dlp", "mfa", "bitlocker", "etat"}},
			{"to do and a resolved state", scorebridge.RecommendationFilter{ToDo: true, State: scorebridge.StateCompleted}, []string{}},
			{"combined", scorebridge.RecommendationFilter{Source: scorebridge.SourceMicrosoft, ToDo: true, Category: scorebridge.CategoryIdentity}, []string{"mfa"}},
			{"query title any case", scorebridge.RecommendationFilter{Query: "rEqUiRe"}, []string{"mfa"}},
			{"query description", scorebridge.RecommendationFilter{Query: "loss"}, []string{"dlp"}},
			{"query service", scorebridge.RecommendationFilter{Query: "entra"}, []string{"mfa", "oauth_apps"}},
			{"query id", scorebridge.RecommendationFilter{Query: "BITLOCK"}, []string{"bitlocker"}},
			{"query non-ASCII case", scorebridge.RecommendationFilter{Query: "état"}, []string{"etat"}},
			{"query non-ASCII service", scorebridge.RecommendationFilter{Query: "DÉFENSE"}, []string{"etat"}},
			{"query percent is literal", scorebridge.RecommendationFilter{Query: "99%"}, []string{"mfa"}},
			{"query percent alone", scorebridge.RecommendationFilter{Query: "%"}, []string{"mfa", "fw"}},
			{"query underscore is literal", scorebridge.RecommendationFilter{Query: "p_c"}, []string{"oauth_apps"}},
			{"query underscore no wildcard", scorebridge.RecommendationFilter{Query: "a_dit"}, []string{}},
			{"query backslash", scorebridge.RecommendationFilter{Query: `\`}, []string{}},
			{"query spaces trimmed", scorebridge.RecommendationFilter{Query: "  firewall "}, []string{"fw"}},
			{"query with filter", scorebridge.RecommendationFilter{Query: "purview", State: scorebridge.StateThirdParty}, []string{"audit"}},
			{"query not across fields", scorebridge.RecommendationFilter{Query: "mfarequire"}, []string{}},
		} {
			got, next := findIDs(t, s, tc.filter)
			if !reflect.DeepEqual(got, tc.want) || next != "" {
				t.Errorf("%s: got %v next %q, want %v", tc.name, got, next, tc.want)
			}
		}
	})
}

func TestFindRecommendations_Sorts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := seedFindFixture(t, db, clock)
		// Touch one action so "updated" differs from creation order.
		clock.Advance(time.Minute)
		if _, err := s.UpdateRecommendation(context.Background(), "dlp", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StateCompleted)}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			sort string
			want []string
		}{
			// dlp completed: impact 0 now; ties broken by id.
			{"", []string{"mfa", "bitlocker", "etat", "audit", "dlp", "fw", "oauth_apps"}},
			{scorebridge.SortImpact, []string{"mfa", "bitlocker", "etat", "audit", "dlp", "fw", "oauth_apps"}},
			// Case-insensitive; "é" sorts after the ASCII letters on both back ends.
			{scorebridge.SortTitle, []string{"bitlocker", "fw", "mfa", "oauth_apps", "dlp", "audit", "etat"}},
			{scorebridge.SortUpdated, []string{"dlp", "etat", "audit", "fw", "oauth_apps", "bitlocker", "mfa"}},
		} {
			got, _ := findIDs(t, s, scorebridge.RecommendationFilter{Sort: tc.sort})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("sort %q: got %v, want %v", tc.sort, got, tc.want)
			}
		}
	})
}

func TestFindRecommendations_Paging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		var all []*scorebridge.Recommendation
		for i := range 23 {
			r := newRec(fmt.Sprintf("r%02d", i))
			r.Title = fmt.Sprintf("Title %d", i%4) // many ties
			r.MaxScore, r.CurrentScore = float64(i%3)*1.1, 0
			r.State = scorebridge.States[i%len(scorebridge.States)]
			all = append(all, r)
			if i%2 == 0 {
				clock.Advance(time.Millisecond) // some share an updated time
			}
			mustCreate(t, s, context.Background(), r)
		}
		for _, sort := range []string{scorebridge.SortImpact, scorebridge.SortTitle, scorebridge.SortUpdated} {
			for _, filter := range []scorebridge.RecommendationFilter{{}, {ToDo: true}, {Query: "title 1"}} {
				filter.Sort = sort
				wantIDs, _ := findIDs(t, s, scorebridge.RecommendationFilter{Sort: sort, ToDo: filter.ToDo, Query: filter.Query, Limit: scorebridge.MaxRecommendationPage})
				for _, limit := range []int{1, 4, 5} {
					f := filter
					f.Limit = limit
					var got []string
					var pages [][]string
					for n := 0; ; n++ {
						if n > len(all) {
							t.Fatalf("sort %s limit %d: paging does not end", sort, limit)
						}
						ids, next := findIDs(t, s, f)
						if len(ids) > limit {
							t.Fatalf("page of %d rows with limit %d", len(ids), limit)
						}
						got = append(got, ids...)
						pages = append(pages, ids)
						if next == "" {
							break
						}
						f.Cursor = next
					}
					if !reflect.DeepEqual(got, wantIDs) {
						t.Errorf("sort %s %+v limit %d: pages gave %v, want %v", sort, filter, limit, got, wantIDs)
					}
					// Back from the last page, each Previous page is the
					// page before, down to the first, which offers none.
					if len(pages) > 1 {
						back := f
						back.Backward = true
						for i := len(pages) - 2; i >= 0; i-- {
							ids, prev := findIDs(t, s, back)
							if !reflect.DeepEqual(ids, pages[i]) {
								t.Fatalf("sort %s %+v limit %d: page %d backward %v, want %v", sort, filter, limit, i, ids, pages[i])
							}
							if (prev == "") != (i == 0) {
								t.Fatalf("sort %s %+v limit %d: page %d backward offers previous %q", sort, filter, limit, i, prev)
							}
							back.Cursor = prev
						}
					}
				}
			}
		}

		// Every id exactly once across the whole set.
		got, next := findIDs(t, s, scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage})
		if next != "" || len(got) != len(all) {
			t.Fatalf("one big page: %d ids, next %q", len(got), next)
		}
		slices.Sort(got)
		if len(slices.Compact(got)) != len(all) {
			t.Fatalf("duplicates in %v", got)
		}
	})
}

func TestFindRecommendations_Limits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		var recs []*scorebridge.Recommendation
		for i := range scorebridge.MaxRecommendationPage + 1 {
			recs = append(recs, newRec(fmt.Sprintf("r%04d", i)))
		}
		if _, err := s.SeedRecommendations(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		ids, next := findIDs(t, s, scorebridge.RecommendationFilter{})
		if len(ids) != scorebridge.DefaultRecommendationPage || next == "" {
			t.Fatalf("default page: %d rows, next %q", len(ids), next)
		}
		ids, next = findIDs(t, s, scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage})
		if len(ids) != scorebridge.MaxRecommendationPage || next == "" {
			t.Fatalf("largest page: %d rows, next %q", len(ids), next)
		}
		// The store and the API share one ceiling: above it is refused, not
		// quietly shortened.
		_, _, err := s.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage + 1})
		wantCode(t, err, scorebridge.EINVALID, "limit")
		ids, next = findIDs(t, s, scorebridge.RecommendationFilter{Limit: scorebridge.MaxRecommendationPage, Cursor: next})
		if len(ids) != 1 || next != "" {
			t.Fatalf("last page: %d rows, next %q", len(ids), next)
		}
	})
}

func TestFindRecommendations_Invalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := seedFindFixture(t, db, clock)
		_, titleCursor := findIDs(t, s, scorebridge.RecommendationFilter{Sort: scorebridge.SortTitle, Limit: 1})
		for field, f := range map[string]scorebridge.RecommendationFilter{
			"sort":     {Sort: "popularity"},
			"category": {Category: "Network"},
			"source":   {Source: "vendor"},
			"state":    {State: "done"},
			"limit":    {Limit: -1},
			"q":        {Query: strings.Repeat("q", scorebridge.MaxQueryLength+1)},
		} {
			_, _, err := s.FindRecommendations(context.Background(), f)
			wantCode(t, err, scorebridge.EINVALID, field)
		}
		for _, q := range []string{"a\x00b", "\xff"} {
			_, _, err := s.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Query: q})
			wantCode(t, err, scorebridge.EINVALID, "q")
		}
		for _, cursor := range []string{"not base64!", "bm90IGpzb24", "e30", titleCursor + "x"} {
			_, _, err := s.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Sort: scorebridge.SortTitle, Cursor: cursor})
			wantCode(t, err, scorebridge.EINVALID, "cursor")
		}
		// A cursor from one sort is refused by another.
		_, _, err := s.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Sort: scorebridge.SortUpdated, Cursor: titleCursor})
		wantCode(t, err, scorebridge.EINVALID, "cursor")
	})
}
