package scorebridge_test

import (
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// TestEnums_OneListEach: every check and every message reads the lists
// (Categories, Sources, States, Sorts), so a value added to a list is
// accepted everywhere and named in every refusal without another edit.
func TestEnums_OneListEach(t *testing.T) {
	type enum struct {
		field    string
		values   []string
		validate func(string) error
	}
	strs := func(n int, at func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = at(i)
		}
		return out
	}
	filter := func(set func(*scorebridge.RecommendationFilter, string)) func(string) error {
		return func(v string) error {
			var f scorebridge.RecommendationFilter
			set(&f, v)
			return f.Validate()
		}
	}
	enums := []enum{
		{"category", strs(len(scorebridge.Categories), func(i int) string { return string(scorebridge.Categories[i]) }),
			filter(func(f *scorebridge.RecommendationFilter, v string) { f.Category = scorebridge.Category(v) })},
		{"source", strs(len(scorebridge.Sources), func(i int) string { return string(scorebridge.Sources[i]) }),
			filter(func(f *scorebridge.RecommendationFilter, v string) { f.Source = scorebridge.Source(v) })},
		{"state", strs(len(scorebridge.States), func(i int) string { return string(scorebridge.States[i]) }),
			filter(func(f *scorebridge.RecommendationFilter, v string) { f.State = scorebridge.State(v) })},
		{"sort", scorebridge.Sorts, filter(func(f *scorebridge.RecommendationFilter, v string) { f.Sort = v })},
		{"status", strs(len(scorebridge.TicketStatuses), func(i int) string { return string(scorebridge.TicketStatuses[i]) }),
			func(v string) error { return scorebridge.TicketFilter{Status: scorebridge.TicketStatus(v)}.Validate() }},
		{"category", strs(len(scorebridge.Categories), func(i int) string { return string(scorebridge.Categories[i]) }),
			func(v string) error { return scorebridge.Category(v).Validate() }},
		{"source", strs(len(scorebridge.Sources), func(i int) string { return string(scorebridge.Sources[i]) }),
			func(v string) error { return scorebridge.Source(v).Validate() }},
		{"state", strs(len(scorebridge.States), func(i int) string { return string(scorebridge.States[i]) }),
			func(v string) error { return scorebridge.State(v).Validate() }},
	}
	for _, e := range enums {
		for _, v := range e.values {
			if err := e.validate(v); err != nil {
				t.Errorf("%s %q, from the list, is refused: %v", e.field, v, err)
			}
		}
		err := e.validate("no-such-value")
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != e.field {
			t.Fatalf("%s no-such-value: %v, want EINVALID on %s", e.field, err, e.field)
		}
		msg := scorebridge.ErrorMessage(err)
		for _, v := range e.values {
			if !strings.Contains(msg, v) {
				t.Errorf("%s message %q does not name %q", e.field, msg, v)
			}
		}
		if !strings.Contains(msg, `"no-such-value"`) {
			t.Errorf("%s message %q does not say what it got", e.field, msg)
		}
	}
	// A new source or state needs its label in the same file; a missing one
	// would show the raw value.
	for _, s := range scorebridge.Sources {
		if s.Label() == string(s) {
			t.Errorf("source %q has no label", s)
		}
	}
	for _, s := range scorebridge.States {
		if s.Label() == string(s) {
			t.Errorf("state %q has no label", s)
		}
	}
}

func TestRecommendationFilter_Validate(t *testing.T) {
	ok := []scorebridge.RecommendationFilter{
		{},
		{Category: "identity", Source: scorebridge.SourceUser, State: scorebridge.StatePlanned, ToDo: true, Query: "mfa", Sort: scorebridge.SortTitle, Limit: scorebridge.MaxRecommendationPage},
		{Category: "Device"}, // Graph's spelling
		{Query: strings.Repeat("é", scorebridge.MaxQueryLength)},
	}
	for _, f := range ok {
		if err := f.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", f, err)
		}
	}
	for field, f := range map[string]scorebridge.RecommendationFilter{
		"q":      {Query: strings.Repeat("q", scorebridge.MaxQueryLength+1)},
		"limit":  {Limit: scorebridge.MaxRecommendationPage + 1},
		"cursor": {Cursor: strings.Repeat("c", scorebridge.MaxCursorLength+1)},
	} {
		if err := f.Validate(); scorebridge.ErrorField(err) != field {
			t.Errorf("Validate(%s) = %v, want EINVALID on %s", field, err, field)
		}
	}
	for _, q := range []string{"a\x00b", "\xff"} {
		if err := (scorebridge.RecommendationFilter{Query: q}).Validate(); scorebridge.ErrorField(err) != "q" {
			t.Errorf("Validate(q=%q) = %v", q, err)
		}
	}
	if err := (scorebridge.RecommendationFilter{Limit: -1}).Validate(); scorebridge.ErrorField(err) != "limit" {
		t.Errorf("negative limit: %v", err)
	}
}
