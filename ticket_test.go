package scorebridge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

func TestTicketRequest_Validate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	valid := func() scorebridge.TicketRequest {
		return scorebridge.TicketRequest{
			RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident,
			Name: "Require MFA", Description: "Why", Priority: 5, DueDate: "2026-11-25",
		}
	}
	ok := valid()
	if err := ok.Validate(now); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	change := valid()
	change.Type, change.Priority, change.DueDate = scorebridge.TicketChange, 4, ""
	if err := change.Validate(now); err != nil {
		t.Fatalf("valid change refused: %v", err)
	}
	tooMany := make([]string, scorebridge.MaxGroupedRecommendations+1)
	for i := range tooMany {
		tooMany[i] = "a" + strings.Repeat("x", i)
	}
	for _, tc := range []struct {
		name   string
		edit   func(r *scorebridge.TicketRequest)
		field  string
		phrase string
	}{
		{"no action", func(r *scorebridge.TicketRequest) { r.RecommendationIDs = nil }, "recommendationId", "choose"},
		{"bad action id", func(r *scorebridge.TicketRequest) { r.RecommendationIDs = []string{"a b"} }, "recommendationIds", "not an improvement action id"},
		{"action twice", func(r *scorebridge.TicketRequest) { r.RecommendationIDs = []string{"a", "a"} }, "recommendationIds", "twice"},
		{"too many actions", func(r *scorebridge.TicketRequest) { r.RecommendationIDs = tooMany }, "recommendationIds", "at most 50"},
		{"no type", func(r *scorebridge.TicketRequest) { r.Type = "" }, "type", "incident"},
		{"unknown type", func(r *scorebridge.TicketRequest) { r.Type = "task" }, "type", "\"problem\" (problem management)"},
		{"no name", func(r *scorebridge.TicketRequest) { r.Name = "  " }, "name", "required"},
		{"long name", func(r *scorebridge.TicketRequest) { r.Name = strings.Repeat("é", 161) }, "name", "at most 160 characters (got 161)"},
		{"long description", func(r *scorebridge.TicketRequest) { r.Description = strings.Repeat("x", 4001) }, "description", "at most 4000"},
		{"bad UTF-8", func(r *scorebridge.TicketRequest) { r.Description = "\xff" }, "description", "UTF-8"},
		{"priority 0", func(r *scorebridge.TicketRequest) { r.Priority = 0 }, "priority", "between 1 (Critical) and 5"},
		{"priority 6", func(r *scorebridge.TicketRequest) { r.Priority = 6 }, "priority", "between 1 (Critical) and 5"},
		{"change priority 5", func(r *scorebridge.TicketRequest) { r.Type, r.Priority = scorebridge.TicketChange, 5 }, "priority", "between 1 (Critical) and 4 for change management"},
		{"due date format", func(r *scorebridge.TicketRequest) { r.DueDate = "25/12/2026" }, "dueDate", "YYYY-MM-DD"},
		{"due date impossible", func(r *scorebridge.TicketRequest) { r.DueDate = "2026-02-30" }, "dueDate", "YYYY-MM-DD"},
		{"due date past", func(r *scorebridge.TicketRequest) { r.DueDate = "2026-11-24" }, "dueDate", "in the past"},
		{"due date far", func(r *scorebridge.TicketRequest) { r.DueDate = "2036-11-26" }, "dueDate", "more than 10 years"},
		{"long connection id", func(r *scorebridge.TicketRequest) { r.ConnectionID = strings.Repeat("c", 129) }, "connectionId", "at most 128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.edit(&r)
			err := r.Validate(now)
			if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != tc.field || !strings.Contains(scorebridge.ErrorMessage(err), tc.phrase) {
				t.Errorf("got %v, want EINVALID on %s saying %q", err, tc.field, tc.phrase)
			}
		})
	}
}

func TestTicketRequest_DueAt(t *testing.T) {
	t.Parallel()
	r := scorebridge.TicketRequest{DueDate: "2026-12-31"}
	if got := r.DueAt(); !got.Equal(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("DueAt = %v, want the end of the day in UTC", got)
	}
	if got := (&scorebridge.TicketRequest{}).DueAt(); !got.IsZero() {
		t.Errorf("DueAt without a date = %v", got)
	}
}
