package sqlstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestRecommendation_StateHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		mustCreate(t, s, asUser("alice"), newRec("mfa"))

		clock.Advance(time.Hour)
		t1 := clock.Now()
		if _, err := s.UpdateRecommendation(asUser("bob"), "mfa", scorebridge.RecommendationUpdate{
			State: ptr(scorebridge.StatePlanned), StateNote: "next sprint"}); err != nil {
			t.Fatal(err)
		}
		// Same state again is not a change.
		if _, err := s.UpdateRecommendation(asUser("bob"), "mfa", scorebridge.RecommendationUpdate{
			State: ptr(scorebridge.StatePlanned)}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		t2 := clock.Now()
		got, err := s.UpdateRecommendation(context.Background(), "mfa", scorebridge.RecommendationUpdate{
			State: ptr(scorebridge.StateCompleted)})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != scorebridge.StateCompleted || !got.UpdatedAt.Equal(t2) {
			t.Fatalf("after update: state %q updated %v", got.State, got.UpdatedAt)
		}

		hist, err := s.FindStateChanges(context.Background(), "mfa")
		if err != nil {
			t.Fatal(err)
		}
		type change struct {
			from, to    scorebridge.State
			note, by    string
			at          time.Time
			recommendID string
		}
		var gotChanges []change
		for _, c := range hist {
			gotChanges = append(gotChanges, change{c.From, c.To, c.Note, c.ChangedBy, c.ChangedAt, c.RecommendationID})
		}
		want := []change{
			{scorebridge.StatePlanned, scorebridge.StateCompleted, "", "system", t2, "mfa"},
			{scorebridge.StateToAddress, scorebridge.StatePlanned, "next sprint", "bob", t1, "mfa"},
		}
		if !reflect.DeepEqual(gotChanges, want) {
			t.Fatalf("history\n%+v\nwant (newest first)\n%+v", gotChanges, want)
		}
		if hist[0].ID == hist[1].ID || hist[0].ID == 0 {
			t.Fatalf("history ids %d, %d", hist[0].ID, hist[1].ID)
		}

		// Two changes within the same instant still come newest first.
		for _, st := range []scorebridge.State{scorebridge.StateRiskAccepted, scorebridge.StateThirdParty} {
			if _, err := s.UpdateRecommendation(asUser("carol"), "mfa", scorebridge.RecommendationUpdate{State: ptr(st)}); err != nil {
				t.Fatal(err)
			}
		}
		hist, err = s.FindStateChanges(context.Background(), "mfa")
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 4 || hist[0].To != scorebridge.StateThirdParty || hist[1].To != scorebridge.StateRiskAccepted || hist[0].ChangedBy != "carol" {
			t.Fatalf("history after same-instant changes: %+v %+v", hist[0], hist[1])
		}
	})
}

func TestRecommendation_MicrosoftIsReadOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		ctx := asUser("alice")
		ms := newRec("AdminMFAV2")
		ms.Source, ms.SourceTool = scorebridge.SourceMicrosoft, scorebridge.ToolGraph
		mustCreate(t, s, ctx, ms)

		for name, upd := range map[string]scorebridge.RecommendationUpdate{
			"title":    {Title: ptr("Mine now")},
			"maxScore": {MaxScore: ptr(99.0)},
			"threats":  {Threats: &[]string{}},
			"category": {Category: ptr(scorebridge.CategoryApps)},
			"mixed":    {State: ptr(scorebridge.StatePlanned), Service: ptr("Other")},
		} {
			_, err := s.UpdateRecommendation(ctx, ms.ID, upd)
			if scorebridge.ErrorCode(err) != scorebridge.EFORBIDDEN {
				t.Errorf("%s: error %v, want forbidden", name, err)
			}
		}
		// The refused mixed update left no state change behind.
		assertUnchanged(t, s, ms)

		// State and current score may change; fields sent unchanged are fine.
		got, err := s.UpdateRecommendation(ctx, ms.ID, scorebridge.RecommendationUpdate{
			State: ptr(scorebridge.StateThirdParty), CurrentScore: ptr(7.0), Title: ptr(ms.Title),
			Category: ptr(scorebridge.Category("IDENTITY"))})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != scorebridge.StateThirdParty || got.CurrentScore != 7 {
			t.Fatalf("after allowed update: %+v", got)
		}

		wantCode(t, s.DeleteRecommendation(ctx, ms.ID), scorebridge.EFORBIDDEN, "")
		if _, err := s.FindRecommendationByID(ctx, ms.ID); err != nil {
			t.Fatalf("after refused delete: %v", err)
		}
	})
}

// assertUnchanged checks that want is stored exactly as given and has no
// history.
func assertUnchanged(t *testing.T, s scorebridge.RecommendationService, want *scorebridge.Recommendation) {
	t.Helper()
	got, err := s.FindRecommendationByID(context.Background(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored\n%+v\nwant unchanged\n%+v", got, want)
	}
	hist, err := s.FindStateChanges(context.Background(), want.ID)
	if err != nil || len(hist) != 0 {
		t.Fatalf("history %v, %v; want none", hist, err)
	}
}

func TestRecommendation_RefusedUpdateWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		r := newRec("mfa")
		mustCreate(t, s, asUser("alice"), r)
		clock.Advance(time.Minute)

		for field, upd := range map[string]scorebridge.RecommendationUpdate{
			"currentScore": {State: ptr(scorebridge.StateCompleted), CurrentScore: ptr(-1.0)},
			"title":        {State: ptr(scorebridge.StatePlanned), Title: ptr("  ")},
			"state":        {State: ptr(scorebridge.State("done"))},
			"threats":      {State: ptr(scorebridge.StatePlanned), Threats: &[]string{strings.Repeat("x", 201)}},
			"stateNote":    {State: ptr(scorebridge.StatePlanned), StateNote: strings.Repeat("n", sqlstore.MaxStateNoteLength+1)},
			"stateNote ":   {State: ptr(scorebridge.StatePlanned), StateNote: "nul \x00 inside"},
		} {
			_, err := s.UpdateRecommendation(asUser("bob"), "mfa", upd)
			wantCode(t, err, scorebridge.EINVALID, strings.TrimSpace(field))
		}
		assertUnchanged(t, s, r)
	})
}

func TestRecommendation_Delete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		ctx := asUser("alice")
		mustCreate(t, s, ctx, newRec("mine"))
		mustCreate(t, s, ctx, newRec("other"))
		if _, err := s.UpdateRecommendation(ctx, "mine", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StatePlanned)}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRecommendation(ctx, "mine"); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindRecommendationByID(ctx, "mine")
		wantCode(t, err, scorebridge.ENOTFOUND, "")
		if _, err := s.FindRecommendationByID(ctx, "other"); err != nil {
			t.Fatalf("the other recommendation: %v", err)
		}
		// The history went with it: the same id starts afresh.
		mustCreate(t, s, ctx, newRec("mine"))
		if hist, err := s.FindStateChanges(ctx, "mine"); err != nil || len(hist) != 0 {
			t.Fatalf("history of re-created id: %v, %v", hist, err)
		}
	})
}

func TestRecommendation_Seed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		ctx := asUser("importer")

		catalog := func() []*scorebridge.Recommendation {
			var recs []*scorebridge.Recommendation
			for _, id := range []string{"a", "b", "c"} {
				r := newRec(id)
				r.Source = scorebridge.SourceMicrosoft
				recs = append(recs, r)
			}
			return recs
		}
		n, err := s.SeedRecommendations(ctx, catalog()[:2])
		if err != nil || n != 2 {
			t.Fatalf("first seed: %d, %v", n, err)
		}
		if _, err := s.UpdateRecommendation(asUser("alice"), "a", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StateRiskAccepted)}); err != nil {
			t.Fatal(err)
		}

		// A bad action refuses the whole batch.
		batch := catalog()
		batch = append(batch, &scorebridge.Recommendation{ID: "d e", Title: "bad id"})
		_, err = s.SeedRecommendations(ctx, batch)
		wantCode(t, err, scorebridge.EINVALID, "id")
		if _, err := s.FindRecommendationByID(ctx, "c"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("c stored from a refused batch: %v", err)
		}

		for i, want := range []int{1, 0} {
			batch := catalog()
			n, err := s.SeedRecommendations(ctx, batch)
			if err != nil || n != want {
				t.Fatalf("seed %d: added %d, %v; want %d", i+2, n, err, want)
			}
			// Only what was added is marked as created now.
			if batch[0].CreatedBy != "" || !batch[0].CreatedAt.IsZero() {
				t.Fatalf("seed %d: existing a marked created by %q at %v", i+2, batch[0].CreatedBy, batch[0].CreatedAt)
			}
			if want == 1 && batch[2].CreatedBy != "importer" {
				t.Fatalf("seed %d: added c marked created by %q", i+2, batch[2].CreatedBy)
			}
		}
		a, err := s.FindRecommendationByID(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != scorebridge.StateRiskAccepted {
			t.Fatalf("seeding reset a's state to %q", a.State)
		}
		c, err := s.FindRecommendationByID(ctx, "c")
		if err != nil || c.CreatedBy != "importer" {
			t.Fatalf("c: %+v, %v", c, err)
		}
		items, _, err := s.FindRecommendations(ctx, scorebridge.RecommendationFilter{})
		if err != nil || len(items) != 3 {
			t.Fatalf("after seeding: %d items, %v", len(items), err)
		}
		if n, err := s.SeedRecommendations(ctx, nil); err != nil || n != 0 {
			t.Fatalf("empty seed: %d, %v", n, err)
		}
	})
}

func TestRecommendation_RawBytesPreserved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		raw := []byte("{ \"zeta\" : 1.50e+2,\n\t\"alpha\": \"caf\u00e9 \\u00e9 \U0001F512 \\\"q\\\"\",  \"nested\": {\"b\":[ ],\"a\":null} }\r\n")
		if !json.Valid(raw) {
			t.Fatal("test document is not JSON")
		}
		r := newRec("raw")
		r.Raw = append(json.RawMessage(nil), raw...)
		mustCreate(t, s, asUser("alice"), r)
		seeded := newRec("seeded")
		seeded.Raw = append(json.RawMessage(nil), raw...)
		if _, err := s.SeedRecommendations(context.Background(), []*scorebridge.Recommendation{seeded}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"raw", "seeded"} {
			got, err := s.FindRecommendationByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Raw, raw) {
				t.Fatalf("%s raw read back as\n%q\nwant\n%q", id, got.Raw, raw)
			}
		}
		items, _, err := s.FindRecommendations(context.Background(), scorebridge.RecommendationFilter{Query: "seeded"})
		if err != nil || len(items) != 1 || !bytes.Equal(items[0].Raw, raw) {
			t.Fatalf("raw through FindRecommendations: %v, %v", items, err)
		}
	})
}

// Concurrent state changes to one action take turns: each recorded change
// starts from the state the previous one left.
func TestRecommendation_ConcurrentStateChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		mustCreate(t, s, asUser("alice"), newRec("mfa"))

		const workers, rounds = 4, 5
		errs := make(chan error, workers)
		for w := range workers {
			go func() {
				ctx := asUser(fmt.Sprintf("user%d", w))
				for i := range rounds {
					st := scorebridge.States[(w+i)%len(scorebridge.States)]
					if _, err := s.UpdateRecommendation(ctx, "mfa", scorebridge.RecommendationUpdate{State: &st}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		hist, err := s.FindStateChanges(context.Background(), "mfa")
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) == 0 {
			t.Fatal("no history")
		}
		// Oldest first: a chain from to_address to the stored state.
		from := scorebridge.StateToAddress
		for i := len(hist) - 1; i >= 0; i-- {
			c := hist[i]
			if c.From != from || c.From == c.To {
				t.Fatalf("change %d goes %s -> %s, but the state was %s", len(hist)-i, c.From, c.To, from)
			}
			from = c.To
		}
		r, err := s.FindRecommendationByID(context.Background(), "mfa")
		if err != nil || r.State != from {
			t.Fatalf("stored state %v (%v), history ends at %s", r, err, from)
		}
	})
}

// An operator's edit of an action's current score is kept in its history
// and in the audit log, both with the old and the new score, in the same
// transaction as the edit.
func TestRecommendation_ScoreEditRecorded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		r := newRec("mfa")
		r.MaxScore, r.CurrentScore = 10, 2
		mustCreate(t, s, asUser("alice"), r)
		if _, err := s.UpdateRecommendation(asUser("olga"), "mfa", scorebridge.RecommendationUpdate{CurrentScore: ptr(7.5)}); err != nil {
			t.Fatal(err)
		}
		history, err := s.FindStateChanges(context.Background(), "mfa")
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 1 || history[0].FromScore == nil || *history[0].FromScore != 2 || *history[0].ToScore != 7.5 ||
			history[0].ChangedBy != "olga" || history[0].From != history[0].To {
			t.Fatalf("history %+v, want one score edit 2 -> 7.5 by olga", history)
		}
		events, _, err := sqlstore.NewAuditStore(db).FindAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditScoreChange})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Actor != "olga" || events[0].Target != "mfa" ||
			events[0].Detail["fromScore"] != 2.0 || events[0].Detail["toScore"] != 7.5 {
			t.Fatalf("audit %+v, want one score.change 2 -> 7.5", events)
		}
	})
}
