package catalog

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func mustRecommendations(t testing.TB) []*scorebridge.Recommendation {
	t.Helper()
	recs, err := Recommendations()
	if err != nil {
		t.Fatalf("Recommendations: %v", err)
	}
	return recs
}

func TestRecommendationsAreValid(t *testing.T) {
	t.Parallel()
	for _, r := range mustRecommendations(t) {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		if r.Source != scorebridge.SourceMicrosoft {
			t.Errorf("%s: source = %q, want %q", r.ID, r.Source, scorebridge.SourceMicrosoft)
		}
		if r.SourceTool != scorebridge.ToolCatalog {
			t.Errorf("%s: sourceTool = %q, want %q", r.ID, r.SourceTool, scorebridge.ToolCatalog)
		}
		if !strings.HasPrefix(r.ID, "sb-") {
			t.Errorf("%s: catalog ids start with \"sb-\" so they never collide with Graph control names", r.ID)
		}
		if strings.ContainsAny(r.Title+r.Description, "<>") {
			t.Errorf("%s: title and description are plain text, found markup", r.ID)
		}
		if n := sentences(r.Description); n < 2 || n > 4 {
			t.Errorf("%s: description has %d sentences, want 2 to 4", r.ID, n)
		}
	}
}

// sentences counts sentence ends, enough to keep descriptions short.
func sentences(s string) int {
	return strings.Count(s+" ", ". ") + strings.Count(s+" ", "? ") + strings.Count(s+" ", "! ")
}

// Threats are filter values on pages, so the catalog spells each one the
// same way everywhere.
var knownThreats = map[string]bool{
	"Account Breach": true, "Data Deletion": true, "Data Exfiltration": true, "Data Spillage": true,
	"Elevation of Privilege": true, "Malware": true, "Password Cracking": true, "Phishing": true, "Ransomware": true,
}

func TestRecommendationsUseKnownThreats(t *testing.T) {
	t.Parallel()
	for _, r := range mustRecommendations(t) {
		seen := make(map[string]bool)
		for _, threat := range r.Threats {
			if !knownThreats[threat] {
				t.Errorf("%s: threat %q is not one of the catalog's threat names", r.ID, threat)
			}
			if seen[threat] {
				t.Errorf("%s: threat %q is listed twice", r.ID, threat)
			}
			seen[threat] = true
		}
	}
}

func TestRecommendationsHaveUniqueIDs(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	titles := make(map[string]string)
	for _, r := range mustRecommendations(t) {
		if seen[r.ID] {
			t.Errorf("id %q appears more than once", r.ID)
		}
		seen[r.ID] = true
		if other, ok := titles[strings.ToLower(r.Title)]; ok {
			t.Errorf("%s and %s share the title %q", other, r.ID, r.Title)
		}
		titles[strings.ToLower(r.Title)] = r.ID
	}
}

func TestRecommendationsCoverEveryCategory(t *testing.T) {
	t.Parallel()
	recs := mustRecommendations(t)
	if len(recs) < 45 {
		t.Errorf("catalog holds %d actions, want at least 45", len(recs))
	}
	perCategory := make(map[scorebridge.Category]int)
	for _, r := range recs {
		perCategory[r.Category]++
	}
	for _, c := range scorebridge.Categories {
		if perCategory[c] < 6 {
			t.Errorf("category %s holds %d actions, want at least 6", c, perCategory[c])
		}
	}
}

// The catalog must look like a tenant on its way, not a blank or finished one.
func TestRecommendationsHaveRealisticStartingScores(t *testing.T) {
	t.Parallel()
	var zero, partial, full int
	states := make(map[scorebridge.State]int)
	for _, r := range mustRecommendations(t) {
		states[r.State]++
		switch {
		case r.CurrentScore == 0:
			zero++
		case r.CurrentScore == r.MaxScore:
			full++
		default:
			partial++
		}
		if r.State == scorebridge.StateCompleted && r.CurrentScore != r.MaxScore {
			t.Errorf("%s: completed but currentScore %g of %g", r.ID, r.CurrentScore, r.MaxScore)
		}
		if r.CurrentScore == r.MaxScore && r.State != scorebridge.StateCompleted {
			t.Errorf("%s: fully achieved but state %q", r.ID, r.State)
		}
	}
	if zero <= partial+full {
		t.Errorf("most actions should start at 0: %d at 0, %d partial, %d full", zero, partial, full)
	}
	if partial == 0 || full == 0 {
		t.Errorf("want some partial and some full scores: %d partial, %d full", partial, full)
	}
	if states[scorebridge.StatePlanned] == 0 || states[scorebridge.StateCompleted] == 0 {
		t.Errorf("want mostly to_address with some planned and completed, got %v", states)
	}
	if states[scorebridge.StateToAddress] < states[scorebridge.StatePlanned]+states[scorebridge.StateCompleted] {
		t.Errorf("most actions should be to_address, got %v", states)
	}
}

func TestRecommendationsRawRoundTrips(t *testing.T) {
	t.Parallel()
	for _, r := range mustRecommendations(t) {
		if !bytes.Contains(actionsJSON, r.Raw) || r.Raw[0] != '{' || r.Raw[len(r.Raw)-1] != '}' {
			t.Errorf("%s: raw is not the entry's text as written in actions.json", r.ID)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.DisallowUnknownFields()
		var e entry
		if err := dec.Decode(&e); err != nil {
			t.Errorf("%s: raw does not decode: %v", r.ID, err)
			continue
		}
		got := &scorebridge.Recommendation{
			ID: e.ID, Title: e.Title, Description: e.Description, Remediation: e.Remediation,
			Category: e.Category, Source: r.Source, SourceTool: r.SourceTool, Service: e.Service,
			Tier: e.Tier, UserImpact: e.UserImpact, ImplementationCost: e.ImplementationCost,
			Threats: e.Threats, MaxScore: e.MaxScore, CurrentScore: e.CurrentScore, State: e.State,
		}
		want := *r
		want.Raw = nil
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s: raw decodes to\n%+v\nwant\n%+v", r.ID, got, &want)
		}
	}
}

func TestRecommendationsTotalMatchesComputeScore(t *testing.T) {
	t.Parallel()
	recs := mustRecommendations(t)
	var items []scorebridge.ScoreItem
	var max, earned float64
	perCategory := make(map[scorebridge.Category]float64)
	for _, r := range recs {
		items = append(items, scorebridge.ScoreItem{Category: r.Category, State: r.State, MaxScore: r.MaxScore, CurrentScore: r.CurrentScore})
		max += r.MaxScore
		earned += r.EarnedScore()
		perCategory[r.Category] += r.MaxScore
	}
	score := scorebridge.ComputeScore(items)
	if score.MaxScore != max {
		t.Errorf("ComputeScore max = %g, catalog total = %g", score.MaxScore, max)
	}
	if math.Abs(score.CurrentScore-earned) > 0.005 {
		t.Errorf("ComputeScore current = %g, catalog earned = %g", score.CurrentScore, earned)
	}
	for _, c := range score.Categories {
		if c.MaxScore != perCategory[c.Category] {
			t.Errorf("%s: ComputeScore max = %g, catalog total = %g", c.Category, c.MaxScore, perCategory[c.Category])
		}
	}
	if score.Percent <= 0 || score.Percent >= 50 {
		t.Errorf("a fresh installation should start with a low but non-zero score, got %g%%", score.Percent)
	}
}

// The most damaging gaps must weigh most: the score should move most when
// admins and users get MFA.
func TestRecommendationsWeightTheImportantActions(t *testing.T) {
	t.Parallel()
	byID := make(map[string]*scorebridge.Recommendation)
	var highest float64
	for _, r := range mustRecommendations(t) {
		byID[r.ID] = r
		highest = max(highest, r.MaxScore)
	}
	for _, id := range []string{"sb-admin-mfa", "sb-user-mfa", "sb-mde-onboarding"} {
		r, ok := byID[id]
		if !ok {
			t.Errorf("%s is missing", id)
			continue
		}
		if r.MaxScore < highest-1 {
			t.Errorf("%s: maxScore %g, want within one point of the highest (%g)", id, r.MaxScore, highest)
		}
	}
}

func TestRecommendationsReturnsFreshCopies(t *testing.T) {
	t.Parallel()
	first := mustRecommendations(t)
	first[0].Title = "changed"
	first[0].Threats[0] = "changed"
	first[0].Raw[1] = 'X'
	first = first[:1]

	second := mustRecommendations(t)
	if second[0].Title == "changed" || second[0].Threats[0] == "changed" || second[0].Raw[1] == 'X' {
		t.Fatalf("a caller's changes leaked into the next call: %+v", second[0])
	}
	if len(second) < 45 {
		t.Fatalf("second call returned %d actions", len(second))
	}
	if &first[0].Threats[0] == &second[0].Threats[0] {
		t.Fatal("threats share a backing array between calls")
	}
}

func BenchmarkRecommendations(b *testing.B) {
	for b.Loop() {
		if _, err := Recommendations(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(actionsJSON)))
	for b.Loop() {
		if _, err := parse(actionsJSON); err != nil {
			b.Fatal(err)
		}
	}
}
