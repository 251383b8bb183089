package sqlstore_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func asUser(name string) context.Context {
	return scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: name, Name: name, Role: scorebridge.RoleAdmin})
}

// newRec returns a valid user recommendation.
func newRec(id string) *scorebridge.Recommendation {
	return &scorebridge.Recommendation{
		ID:                 id,
		Title:              "Require MFA for " + id,
		Description:        "Multifactor authentication stops most account takeovers.",
		Remediation:        "<p>Turn on <b>security defaults</b>.</p>",
		Category:           scorebridge.CategoryIdentity,
		Source:             scorebridge.SourceUser,
		SourceTool:         scorebridge.ToolUser,
		Service:            "Microsoft Entra ID",
		Tier:               "Core",
		UserImpact:         "Moderate",
		ImplementationCost: "Low",
		Threats:            []string{"Password cracking", "Account breach"},
		MaxScore:           10,
		CurrentScore:       2.5,
		State:              scorebridge.StateToAddress,
		Raw:                json.RawMessage(`{"id": "` + id + `"}`),
	}
}

func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if got := scorebridge.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	if field != "" {
		if got := scorebridge.ErrorField(err); got != field {
			t.Fatalf("error field = %q (%v), want %q", got, err, field)
		}
	}
}

func mustCreate(t testing.TB, s scorebridge.RecommendationService, ctx context.Context, r *scorebridge.Recommendation) {
	t.Helper()
	if err := s.CreateRecommendation(ctx, r); err != nil {
		t.Fatalf("create %s: %v", r.ID, err)
	}
}

func TestRecommendation_CreateAndFind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		ctx := asUser("alice")

		r := newRec("mfa")
		r.Category = "identity" // any case is accepted and stored canonically
		mustCreate(t, s, ctx, r)
		if r.CreatedBy != "alice" || !r.CreatedAt.Equal(clock.Now()) || !r.UpdatedAt.Equal(clock.Now()) {
			t.Fatalf("create filled in %q %v %v", r.CreatedBy, r.CreatedAt, r.UpdatedAt)
		}
		if r.Category != scorebridge.CategoryIdentity {
			t.Fatalf("category = %q, want Identity", r.Category)
		}
		got, err := s.FindRecommendationByID(ctx, "mfa")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, r)
		}

		// Nothing optional given: empty threats and no raw record.
		min := &scorebridge.Recommendation{ID: "min", Title: "T", Category: scorebridge.CategoryData,
			Source: scorebridge.SourceMicrosoft, State: scorebridge.StateCompleted}
		mustCreate(t, s, context.Background(), min)
		got, err = s.FindRecommendationByID(ctx, "min")
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedBy != "system" || got.Raw != nil || got.Threats == nil || len(got.Threats) != 0 {
			t.Fatalf("minimal recommendation read back as %+v", got)
		}
	})
}

func TestRecommendation_Errors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		ctx := asUser("alice")
		mustCreate(t, s, ctx, newRec("mfa"))

		for _, id := range []string{"nope", "", "nul\x00", "\xff", strings.Repeat("x", 1000)} {
			_, err := s.FindRecommendationByID(ctx, id)
			wantCode(t, err, scorebridge.ENOTFOUND, "")
		}

		dup := newRec("mfa")
		dup.Title = "Another"
		wantCode(t, s.CreateRecommendation(ctx, dup), scorebridge.ECONFLICT, "")

		bad := newRec("bad")
		bad.CurrentScore = 11
		wantCode(t, s.CreateRecommendation(ctx, bad), scorebridge.EINVALID, "currentScore")
		_, err := s.FindRecommendationByID(ctx, "bad")
		wantCode(t, err, scorebridge.ENOTFOUND, "")

		// The duplicate did not overwrite the original.
		got, err := s.FindRecommendationByID(ctx, "mfa")
		if err != nil || got.Title != newRec("mfa").Title {
			t.Fatalf("original after duplicate: %+v, %v", got, err)
		}

		_, err = s.UpdateRecommendation(ctx, "nope", scorebridge.RecommendationUpdate{State: ptr(scorebridge.StatePlanned)})
		wantCode(t, err, scorebridge.ENOTFOUND, "")
		wantCode(t, s.DeleteRecommendation(ctx, "nope"), scorebridge.ENOTFOUND, "")
		_, err = s.FindStateChanges(ctx, "nope")
		wantCode(t, err, scorebridge.ENOTFOUND, "")
	})
}

func ptr[T any](v T) *T { return &v }

func TestRecommendation_UpdateUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, clock := openTest(t, b)
		s := sqlstore.NewRecommendationService(db)
		mustCreate(t, s, asUser("alice"), newRec("mfa"))
		clock.Advance(time.Minute)

		got, err := s.UpdateRecommendation(asUser("bob"), "mfa", scorebridge.RecommendationUpdate{
			Title:    ptr("Require MFA for admins"),
			Threats:  &[]string{"Phishing"},
			MaxScore: ptr(20.0),
			Category: ptr(scorebridge.Category("device")),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Require MFA for admins" || got.MaxScore != 20 || got.Category != scorebridge.CategoryDevices ||
			!reflect.DeepEqual(got.Threats, []string{"Phishing"}) || !got.UpdatedAt.Equal(clock.Now()) || got.CreatedBy != "alice" {
			t.Fatalf("after update: %+v", got)
		}
		read, err := s.FindRecommendationByID(context.Background(), "mfa")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(read, got) {
			t.Fatalf("read back\n%+v\nwant\n%+v", read, got)
		}
		// No state change, no history.
		hist, err := s.FindStateChanges(context.Background(), "mfa")
		if err != nil || len(hist) != 0 {
			t.Fatalf("history = %v, %v; want none", hist, err)
		}
	})
}
