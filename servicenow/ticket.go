package servicenow

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Tables tickets are written to.
const (
	TableIncident      = "incident"
	TableChangeRequest = "change_request"
	TableProblem       = "problem"
)

// DateTimeLayout is how the Table API writes date-time values (in UTC).
const DateTimeLayout = "2006-01-02 15:04:05"

// CorrelationDisplay is written to correlation_display on every ticket, so
// an instance admin can see which records scorebridge made.
const CorrelationDisplay = "scorebridge"

// ChangeCategory is the category of a security and configuration change
// request. An instance keeps a choice value it does not list, so admins can
// add the label without scorebridge changing.
const ChangeCategory = "security"

// ChangeTitle names the kind of change request scorebridge makes; it heads
// the description so the change advisory board knows what it reads.
const ChangeTitle = "Security and Configuration Change Request"

// TicketTable returns the table a ticket type is written to.
func TicketTable(t scorebridge.TicketType) string {
	switch t {
	case scorebridge.TicketChange:
		return TableChangeRequest
	case scorebridge.TicketProblem:
		return TableProblem
	}
	return TableIncident
}

// ImpactUrgency returns the impact and urgency that make an instance compute
// priority p: ServiceNow derives priority from impact x urgency through its
// priority lookup and ignores a priority written directly.
//
//	impact\urgency  1  2  3
//	1               1  2  3
//	2               2  3  4
//	3               3  4  5
func ImpactUrgency(p int) (impact, urgency int) {
	switch p {
	case 1:
		return 1, 1
	case 2:
		return 1, 2
	case 3:
		return 2, 2
	case 4:
		return 2, 3
	default:
		return 3, 3
	}
}

// TicketFields returns the record a ticket becomes. actionURL returns the
// address of an improvement action in the center, for the link back.
func TicketFields(t *scorebridge.Ticket, actionURL func(id string) string) map[string]string {
	impact, urgency := ImpactUrgency(t.Priority)
	f := map[string]string{
		"short_description":   t.Name,
		"description":         TicketDescription(t, actionURL),
		"impact":              fmt.Sprint(impact),
		"urgency":             fmt.Sprint(urgency),
		"correlation_id":      t.ID,
		"correlation_display": CorrelationDisplay,
	}
	if t.DueDate != "" {
		req := scorebridge.TicketRequest{DueDate: t.DueDate}
		if due := req.DueAt(); !due.IsZero() {
			f["due_date"] = due.UTC().Format(DateTimeLayout)
		}
	}
	if t.AssignmentGroup != "" {
		// A rule's group, by sys_id.
		f["assignment_group"] = t.AssignmentGroup
	}
	if t.Type == scorebridge.TicketChange {
		f["type"] = "normal"
		f["category"] = ChangeCategory
		// The priority lookup covers incidents only: a change request's
		// priority is an ordinary field, so it is written as well.
		f["priority"] = fmt.Sprint(t.Priority)
	}
	return f
}

// TicketDescription is the description field: what the person wrote, then
// what scorebridge knows of each action (source, category, link back, and
// for a change request or a problem the remediation: the change to make,
// the fix to find), then who asked. The whole is cut to
// the description limit so the instance never truncates it mid-line.
func TicketDescription(t *scorebridge.Ticket, actionURL func(id string) string) string {
	var b strings.Builder
	if t.Type == scorebridge.TicketChange {
		b.WriteString(ChangeTitle + "\n\n")
	}
	if d := strings.TrimSpace(t.Description); d != "" {
		b.WriteString(d + "\n\n")
	}
	for _, a := range t.Actions {
		fmt.Fprintf(&b, "Improvement action: %s\n", a.Title)
		fmt.Fprintf(&b, "Recommendation source: %s\n", a.Source.Label())
		fmt.Fprintf(&b, "Category: %s\n", a.Category)
		if actionURL != nil {
			fmt.Fprintf(&b, "Link: %s\n", actionURL(a.ID))
		}
		if t.Type != scorebridge.TicketIncident && strings.TrimSpace(a.Remediation) != "" {
			fmt.Fprintf(&b, "Remediation:\n%s\n", strings.TrimSpace(a.Remediation))
		}
		b.WriteString("\n")
	}
	by := "user " + t.RequestedBy
	if strings.HasPrefix(t.RequestedBy, "rule \"") {
		// A ticket an automation rule made names the rule.
		by = "the automation " + t.RequestedBy
	}
	fmt.Fprintf(&b, "Shared from scorebridge by %s.", by)
	return truncateRunes(b.String(), scorebridge.MaxTicketDescriptionLength)
}

func truncateRunes(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// FindByCorrelationID returns the record of table whose correlation_id is
// id, or nil when there is none. It is how a retry adopts a record whose
// creation answer was lost instead of making a second one.
func (c *Client) FindByCorrelationID(ctx context.Context, table, id string) (Record, error) {
	if strings.ContainsAny(id, "^,=") {
		// An encoded query has no escaping; such an id would query
		// something else.
		return nil, fmt.Errorf("servicenow: correlation id %q cannot be used in a query", id)
	}
	recs, _, err := c.List(ctx, table, ListOptions{
		Query:   "correlation_id=" + id + "^ORDERBYsys_created_on",
		Limit:   1,
		NoCount: true,
	})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs[0], nil
}

// RecordURL is the address a person opens to see a record in the instance.
func RecordURL(baseURL, table, sysID string) string {
	return strings.TrimRight(baseURL, "/") + "/nav_to.do?uri=" + url.QueryEscape(table+".do?sys_id="+sysID)
}

// Incident and change request state names on a fresh instance, used until
// an admin renames them.
var (
	IncidentStates = map[string]string{"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
	ChangeStates   = map[string]string{"-5": "New", "-4": "Assess", "-3": "Authorize", "-2": "Scheduled", "-1": "Implement", "0": "Review", "3": "Closed", "4": "Canceled"}
	// ProblemStates are the best practice state model's (Madrid and later).
	ProblemStates = map[string]string{"101": "New", "102": "Assess", "103": "Root Cause Analysis", "104": "Fix in Progress", "106": "Resolved", "107": "Closed"}
)

// StateName returns the fresh-instance label of a ticket's state value.
func StateName(t scorebridge.TicketType, state string) string {
	m := IncidentStates
	switch t {
	case scorebridge.TicketChange:
		m = ChangeStates
	case scorebridge.TicketProblem:
		m = ProblemStates
	}
	if n, ok := m[state]; ok {
		return n
	}
	return state
}

// ParseDateTime reads a Table API date-time value (UTC).
func ParseDateTime(s string) (time.Time, error) {
	return time.ParseInLocation(DateTimeLayout, s, time.UTC)
}
