package servicenow_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// Every priority maps to an impact/urgency pair that the documented
// priority lookup turns back into that priority.
func TestImpactUrgency_MatrixRoundTrip(t *testing.T) {
	t.Parallel()
	matrix := [3][3]int{{1, 2, 3}, {2, 3, 4}, {3, 4, 5}}
	for p := 1; p <= 5; p++ {
		i, u := servicenow.ImpactUrgency(p)
		if i < 1 || i > 3 || u < 1 || u > 3 || matrix[i-1][u-1] != p {
			t.Errorf("priority %d -> impact %d urgency %d", p, i, u)
		}
	}
}

func TestTicketFields(t *testing.T) {
	t.Parallel()
	tk := &scorebridge.Ticket{
		ID: "0123456789abcdef0123456789abcdef", Type: scorebridge.TicketChange, Name: "Enable audit logs",
		Description: strings.Repeat("long ", 1000), Priority: 3, DueDate: "2026-12-01", RequestedBy: "u-1",
		Actions: []scorebridge.TicketAction{{ID: "audit", Title: "Audit", Source: scorebridge.SourceMicrosoft, Category: scorebridge.CategoryData, Remediation: "Turn it on"}},
	}
	f := servicenow.TicketFields(tk, func(id string) string { return "https://c/actions/" + id })
	for k, v := range map[string]string{
		"short_description": "Enable audit logs", "impact": "2", "urgency": "2", "priority": "3",
		"type": "normal", "category": servicenow.ChangeCategory, "correlation_id": tk.ID,
		"correlation_display": "scorebridge", "due_date": "2026-12-01 23:59:59",
	} {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
	if n := utf8.RuneCountInString(f["description"]); n > scorebridge.MaxTicketDescriptionLength {
		t.Errorf("description is %d characters, over the field's %d", n, scorebridge.MaxTicketDescriptionLength)
	}
	if !strings.HasPrefix(f["description"], servicenow.ChangeTitle) {
		t.Errorf("description does not start with the change title")
	}

	tk.Type, tk.DueDate = scorebridge.TicketIncident, ""
	f = servicenow.TicketFields(tk, nil)
	for _, k := range []string{"type", "category", "priority", "due_date"} {
		if _, ok := f[k]; ok {
			t.Errorf("incident carries %s = %q", k, f[k])
		}
	}
}
