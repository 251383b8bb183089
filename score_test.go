package scorebridge_test

import (
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestEarnedScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state        scorebridge.State
		max, current float64
		want         float64
	}{
		{scorebridge.StateToAddress, 10, 0, 0},
		{scorebridge.StateToAddress, 10, 4, 4},      // partial credit counts while still to do
		{scorebridge.StatePlanned, 10, 7.5, 7.5},    // planning changes nothing yet
		{scorebridge.StateRiskAccepted, 10, 7.5, 0}, // accepting the risk gives up the points
		{scorebridge.StateThirdParty, 10, 0, 10},    // resolved elsewhere earns all of them
		{scorebridge.StateCompleted, 10, 3, 10},     // done by the admin's word
		{scorebridge.StateToAddress, 10, 12, 10},    // never above max
		{scorebridge.StateToAddress, 10, -1, 0},     // never below zero
	}
	for _, tt := range tests {
		if got := scorebridge.EarnedScore(tt.state, tt.max, tt.current); got != tt.want {
			t.Errorf("EarnedScore(%s, %g, %g) = %g, want %g", tt.state, tt.max, tt.current, got, tt.want)
		}
	}
}

func TestPartialScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		max         float64
		done, total int
		want        float64
	}{
		{10, 50, 100, 5},
		{9, 1, 3, 3},
		{10, 0, 100, 0},
		{10, 100, 100, 10},
		{10, 150, 100, 10},
		{10, 5, 0, 0},
	}
	for _, tt := range tests {
		if got := scorebridge.PartialScore(tt.max, tt.done, tt.total); got != tt.want {
			t.Errorf("PartialScore(%g, %d, %d) = %g, want %g", tt.max, tt.done, tt.total, got, tt.want)
		}
	}
}

func TestComputeScore(t *testing.T) {
	t.Parallel()
	items := []scorebridge.ScoreItem{
		{Category: scorebridge.CategoryIdentity, State: scorebridge.StateToAddress, MaxScore: 10, CurrentScore: 5},
		{Category: scorebridge.CategoryIdentity, State: scorebridge.StateThirdParty, MaxScore: 10},
		{Category: scorebridge.CategoryData, State: scorebridge.StateRiskAccepted, MaxScore: 8, CurrentScore: 8},
		{Category: scorebridge.CategoryApps, State: scorebridge.StateCompleted, MaxScore: 2},
		{Category: scorebridge.Category("Unknown"), State: scorebridge.StateCompleted, MaxScore: 100},
	}
	s := scorebridge.ComputeScore(items)
	if s.CurrentScore != 17 || s.MaxScore != 30 {
		t.Fatalf("score = %g/%g, want 17/30", s.CurrentScore, s.MaxScore)
	}
	if s.Percent != 56.67 {
		t.Fatalf("percent = %g, want 56.67", s.Percent)
	}
	if len(s.Categories) != len(scorebridge.Categories) {
		t.Fatalf("got %d categories, want every one of %d", len(s.Categories), len(scorebridge.Categories))
	}
	want := map[scorebridge.Category][3]float64{
		scorebridge.CategoryIdentity:       {15, 20, 75},
		scorebridge.CategoryData:           {0, 8, 0},
		scorebridge.CategoryDevices:        {0, 0, 0},
		scorebridge.CategoryApps:           {2, 2, 100},
		scorebridge.CategoryInfrastructure: {0, 0, 0},
	}
	for i, c := range s.Categories {
		if c.Category != scorebridge.Categories[i] {
			t.Errorf("category %d = %s, want %s", i, c.Category, scorebridge.Categories[i])
		}
		w := want[c.Category]
		if c.CurrentScore != w[0] || c.MaxScore != w[1] || c.Percent != w[2] {
			t.Errorf("%s = %g/%g (%g%%), want %g/%g (%g%%)", c.Category, c.CurrentScore, c.MaxScore, c.Percent, w[0], w[1], w[2])
		}
	}
}

func TestComputeScoreSources(t *testing.T) {
	t.Parallel()
	items := []scorebridge.ScoreItem{
		{Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceMicrosoft, State: scorebridge.StateToAddress, MaxScore: 10, CurrentScore: 4},
		{Category: scorebridge.CategoryData, Source: scorebridge.SourceMicrosoft, State: scorebridge.StateCompleted, MaxScore: 6},
		{Category: scorebridge.CategoryData, Source: scorebridge.SourceUser, State: scorebridge.StateRiskAccepted, MaxScore: 5, CurrentScore: 5},
		{Category: scorebridge.CategoryApps, State: scorebridge.StateCompleted, MaxScore: 3}, // no source: overall only
	}
	s := scorebridge.ComputeScore(items)
	if len(s.Sources) != len(scorebridge.Sources) {
		t.Fatalf("got %d sources, want every one of %d", len(s.Sources), len(scorebridge.Sources))
	}
	want := map[scorebridge.Source][3]float64{
		scorebridge.SourceMicrosoft: {10, 16, 62.5},
		scorebridge.SourceUser:      {0, 5, 0},
	}
	for i, src := range s.Sources {
		if src.Source != scorebridge.Sources[i] {
			t.Errorf("source %d = %s, want %s", i, src.Source, scorebridge.Sources[i])
		}
		w := want[src.Source]
		if src.CurrentScore != w[0] || src.MaxScore != w[1] || src.Percent != w[2] {
			t.Errorf("%s = %g/%g (%g%%), want %g/%g (%g%%)", src.Source, src.CurrentScore, src.MaxScore, src.Percent, w[0], w[1], w[2])
		}
	}
	if s.CurrentScore != 13 || s.MaxScore != 24 {
		t.Fatalf("overall = %g/%g, want 13/24", s.CurrentScore, s.MaxScore)
	}
}

func TestComputeScoreEmpty(t *testing.T) {
	t.Parallel()
	s := scorebridge.ComputeScore(nil)
	if s.Percent != 0 || s.MaxScore != 0 || len(s.Categories) != 5 {
		t.Fatalf("empty score = %+v", s)
	}
}

func TestScoreImpactAndToDo(t *testing.T) {
	t.Parallel()
	r := &scorebridge.Recommendation{MaxScore: 10, CurrentScore: 4, State: scorebridge.StateToAddress}
	if got := r.ScoreImpact(); got != 6 {
		t.Errorf("impact to address = %g, want 6", got)
	}
	r.State = scorebridge.StateRiskAccepted
	if r.State.OnToDoList() || r.ScoreImpact() != 0 {
		t.Errorf("risk accepted must leave the to-do list with no impact")
	}
	r.State = scorebridge.StatePlanned
	if !r.State.OnToDoList() {
		t.Errorf("planned stays on the to-do list")
	}
}

func TestRecommendationValidate(t *testing.T) {
	t.Parallel()
	valid := func() *scorebridge.Recommendation {
		return &scorebridge.Recommendation{ID: "sb-x", Title: "T", Category: scorebridge.CategoryData,
			Source: scorebridge.SourceUser, MaxScore: 5, State: scorebridge.StateToAddress}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid: %v", err)
	}
	tests := []struct {
		field string
		edit  func(r *scorebridge.Recommendation)
	}{
		{"id", func(r *scorebridge.Recommendation) { r.ID = "" }},
		{"id", func(r *scorebridge.Recommendation) { r.ID = "a b" }},
		{"title", func(r *scorebridge.Recommendation) { r.Title = "  " }},
		{"category", func(r *scorebridge.Recommendation) { r.Category = "Network" }},
		{"source", func(r *scorebridge.Recommendation) { r.Source = "vendor" }},
		{"maxScore", func(r *scorebridge.Recommendation) { r.MaxScore = -1 }},
		{"currentScore", func(r *scorebridge.Recommendation) { r.CurrentScore = 6 }},
		{"state", func(r *scorebridge.Recommendation) { r.State = "done" }},
		{"raw", func(r *scorebridge.Recommendation) { r.Raw = []byte("{") }},
		{"threats", func(r *scorebridge.Recommendation) { r.Threats = []string{""} }},
	}
	for _, tt := range tests {
		r := valid()
		tt.edit(r)
		err := r.Validate()
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != tt.field {
			t.Errorf("field %s: got %v", tt.field, err)
		}
	}
}
