package scorebridge_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

func TestRule_ValidateNamesTheField(t *testing.T) {
	t.Parallel()
	valid := func() scorebridge.Rule {
		return scorebridge.Rule{Name: "Identity", Action: scorebridge.RuleAction{TicketType: scorebridge.TicketChange, Priority: 2}}
	}
	r := valid()
	if err := r.Validate(); err != nil || r.Action.Grouping != scorebridge.RuleEach || r.MaxTicketsPerRun != scorebridge.DefaultRuleTicketsPerRun {
		t.Fatalf("valid rule: %v, defaults %q %d", err, r.Action.Grouping, r.MaxTicketsPerRun)
	}
	for _, tc := range []struct {
		name   string
		edit   func(*scorebridge.Rule)
		field  string
		phrase string
	}{
		{"no name", func(r *scorebridge.Rule) { r.Name = "  " }, "name", ""},
		{"long name", func(r *scorebridge.Rule) { r.Name = strings.Repeat("n", 101) }, "name", "100"},
		{"category", func(r *scorebridge.Rule) { r.Conditions.Categories = []scorebridge.Category{"Network"} }, "conditions.categories", "Identity"},
		{"source", func(r *scorebridge.Rule) { r.Conditions.Sources = []scorebridge.Source{"aws"} }, "conditions.sources", "microsoft"},
		{"state", func(r *scorebridge.Rule) { r.Conditions.States = []scorebridge.State{"open"} }, "conditions.states", "to_address"},
		{"impact", func(r *scorebridge.Rule) { r.Conditions.MinScoreImpact = -1 }, "conditions.minScoreImpact", "from 0"},
		{"type", func(r *scorebridge.Rule) { r.Action.TicketType = "task" }, "action.ticketType", "problem"},
		{"grouping", func(r *scorebridge.Rule) { r.Action.Grouping = "batch" }, "action.grouping", "each"},
		{"priority", func(r *scorebridge.Rule) { r.Action.Priority = 5 }, "action.priority", "between 1 (Critical) and 4"},
		{"threshold priority", func(r *scorebridge.Rule) {
			r.Action.PriorityByImpact = []scorebridge.PriorityThreshold{{MinScoreImpact: 5, Priority: 1}, {MinScoreImpact: 2, Priority: 0}}
		}, "action.priorityByImpact[1].priority", "between 1"},
		{"group", func(r *scorebridge.Rule) { r.Action.AssignmentGroup = "Security Operations" }, "action.assignmentGroup", "sys_id"},
		{"cap", func(r *scorebridge.Rule) { r.MaxTicketsPerRun = 501 }, "maxTicketsPerRun", "1 to 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.edit(&r)
			err := r.Validate()
			if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != tc.field || !strings.Contains(scorebridge.ErrorMessage(err), tc.phrase) {
				t.Errorf("got %v, want EINVALID on %s saying %q", err, tc.field, tc.phrase)
			}
		})
	}
}

func TestRuleAction_PriorityByImpact(t *testing.T) {
	t.Parallel()
	a := scorebridge.RuleAction{Priority: 4, PriorityByImpact: []scorebridge.PriorityThreshold{{MinScoreImpact: 5, Priority: 2}, {MinScoreImpact: 8, Priority: 1}}}
	for impact, want := range map[float64]int{0: 4, 4.9: 4, 5: 2, 7.5: 2, 8: 1, 10: 1} {
		if got := a.PriorityFor(impact); got != want {
			t.Errorf("impact %g: priority %d, want %d", impact, got, want)
		}
	}
}

func TestSLA_DueDateAndCloseTimes(t *testing.T) {
	t.Parallel()
	s := scorebridge.DefaultSLA()
	for p, days := range map[int]string{1: "2026-12-08", 2: "2026-12-15", 3: "2026-12-31", 4: "2027-03-01"} {
		if got := s.DueDate(p, mustTime(t, "2026-12-01T10:00:00Z")); got != days {
			t.Errorf("P%d due %s, want %s", p, got, days)
		}
	}
	id, dev := scorebridge.CategoryIdentity, scorebridge.CategoryDevices
	got := scorebridge.CloseTimesFromBuckets([]scorebridge.CloseBucket{
		{Category: dev, Lower: 3 * 24 * time.Hour, Tickets: 1},
		{Category: id, Lower: 10 * time.Hour, Tickets: 1}, {Category: id, Lower: 1 * time.Hour, Tickets: 1},
		{Category: id, Lower: 5 * time.Hour, Tickets: 1}, {Category: id, Lower: 2 * time.Hour, Tickets: 1},
		{Category: "Printers", Lower: time.Hour, Tickets: 0},
	})
	want := []scorebridge.CloseTime{{Category: id, Tickets: 4, Median: 2 * time.Hour, P90: 10 * time.Hour}, {Category: dev, Tickets: 1, Median: 3 * 24 * time.Hour, P90: 3 * 24 * time.Hour}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("close times %+v, want %+v", got, want)
	}
	// Two tickets in one bucket: the rank counts both.
	got = scorebridge.CloseTimesFromBuckets([]scorebridge.CloseBucket{{Category: id, Lower: time.Hour, Tickets: 9}, {Category: id, Lower: 50 * time.Hour, Tickets: 1}})
	if got[0].Median != time.Hour || got[0].P90 != time.Hour || got[0].Tickets != 10 {
		t.Errorf("close times %+v", got)
	}
	for d, want := range map[time.Duration]time.Duration{
		59 * time.Minute: 0, 90 * time.Minute: time.Hour, 47*time.Hour + 59*time.Minute: 47 * time.Hour,
		48 * time.Hour: 48 * time.Hour, 50*time.Hour + 30*time.Minute: 50*time.Hour + 24*time.Minute,
	} {
		if got := scorebridge.CloseTimeBucket(d); got != want {
			t.Errorf("bucket of %s: %s, want %s", d, got, want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
