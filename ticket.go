package scorebridge

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TicketType is the kind of ServiceNow record a ticket becomes.
type TicketType string

const (
	TicketIncident TicketType = "incident" // incident management: an incident
	TicketChange   TicketType = "change"   // change management: a change_request
	// TicketProblem is problem management: a problem record, the third
	// ticket type other security centers send, for a control whose cause
	// needs finding before it can be fixed.
	TicketProblem TicketType = "problem"
)

// TicketTypes lists every ticket type in the order the share form shows
// them.
var TicketTypes = []TicketType{TicketIncident, TicketChange, TicketProblem}

// Label returns the name the share form and the cards show.
func (t TicketType) Label() string {
	switch t {
	case TicketIncident:
		return "Incident management"
	case TicketChange:
		return "Change management"
	case TicketProblem:
		return "Problem management"
	}
	return string(t)
}

// Valid reports whether t is a known ticket type.
func (t TicketType) Valid() bool { return oneOf(TicketTypes, t) }

// MaxPriority is the lowest priority (highest number) ServiceNow allows for
// the type: incidents and problems go to 5 (Planning; both take the
// priority lookup of impact and urgency), change requests to 4 (Low).
func (t TicketType) MaxPriority() int {
	if t == TicketChange {
		return 4
	}
	return 5
}

// TicketStatus is where a ticket request stands on scorebridge's side.
type TicketStatus string

const (
	TicketQueued TicketStatus = "queued" // stored, waiting for (or in) its job
	TicketSent   TicketStatus = "sent"   // the instance holds the record
	TicketFailed TicketStatus = "failed" // the instance refused it; Error says why
)

// TicketStatuses lists every ticket status.
var TicketStatuses = []TicketStatus{TicketQueued, TicketSent, TicketFailed}

// Label returns the name a page shows.
func (s TicketStatus) Label() string {
	switch s {
	case TicketQueued:
		return "Queued"
	case TicketSent:
		return "Sent"
	case TicketFailed:
		return "Failed"
	}
	return string(s)
}

// Limits checked before a ticket request is stored, so the instance never
// has to refuse (or silently truncate) what the user wrote.
const (
	// MaxTicketNameLength is task.short_description's length; ServiceNow
	// silently truncates anything longer.
	MaxTicketNameLength = 160
	// MaxTicketDescriptionLength is task.description's length on a fresh
	// instance.
	MaxTicketDescriptionLength = 4000
	// MaxGroupedRecommendations caps the actions one grouped ticket covers,
	// so its generated description stays within the description limit.
	MaxGroupedRecommendations = 50
	// MaxTicketsPerBatch caps one bulk share.
	MaxTicketsPerBatch = 100
	// MaxDueDateYears is how far ahead a due date may be: further is almost
	// always a typo in the year.
	MaxDueDateYears = 10
)

// DueDateLayout is how a due date is written in the API and the form.
const DueDateLayout = "2006-01-02"

// TicketRequest is what a person asks for when sharing one or more actions.
// Several RecommendationIDs make one grouped ticket.
type TicketRequest struct {
	RecommendationIDs []string   `json:"recommendationIds"`
	Type              TicketType `json:"type"`
	Name              string     `json:"name"`
	Description       string     `json:"description"`
	// Priority is on ServiceNow's scale: 1 Critical ... 5 Planning (4 Low
	// for a change request).
	Priority int `json:"priority"`
	// DueDate is YYYY-MM-DD, or "" for none. It is sent as the end of that
	// day in UTC.
	DueDate string `json:"dueDate"`
	// ConnectionID names the instance; "" for the default one.
	ConnectionID string `json:"connectionId"`
}

// Validate checks the request against ServiceNow's limits. now is the
// current time, for the due date. It returns an EINVALID error naming the
// first bad field.
func (r *TicketRequest) Validate(now time.Time) error {
	if len(r.RecommendationIDs) == 0 {
		return FieldErrorf("recommendationId", "choose the improvement action to share")
	}
	if len(r.RecommendationIDs) > MaxGroupedRecommendations {
		return FieldErrorf("recommendationIds", "a grouped ticket may cover at most %d actions (got %d)", MaxGroupedRecommendations, len(r.RecommendationIDs))
	}
	seen := map[string]bool{}
	for _, id := range r.RecommendationIDs {
		if strings.TrimSpace(id) == "" || len(id) > MaxIDLength || !validID(id) {
			return FieldErrorf("recommendationIds", "%q is not an improvement action id", id)
		}
		if seen[id] {
			return FieldErrorf("recommendationIds", "action %q is listed twice", id)
		}
		seen[id] = true
	}
	if !r.Type.Valid() {
		return FieldErrorf("type", "type must be \"incident\" (incident management), \"change\" (change management) or \"problem\" (problem management)")
	}
	if err := validText("name", r.Name, MaxTicketNameLength, true); err != nil {
		return err
	}
	if err := validText("description", r.Description, MaxTicketDescriptionLength, false); err != nil {
		return err
	}
	if max := r.Type.MaxPriority(); r.Priority < 1 || r.Priority > max {
		return FieldErrorf("priority", "priority must be between 1 (Critical) and %d for %s", max, strings.ToLower(r.Type.Label()))
	}
	if r.DueDate != "" {
		d, err := time.Parse(DueDateLayout, r.DueDate)
		if err != nil {
			return FieldErrorf("dueDate", "due date %q is not a date written YYYY-MM-DD", r.DueDate)
		}
		today := now.UTC().Truncate(24 * time.Hour)
		if d.Before(today) {
			return FieldErrorf("dueDate", "due date %s is in the past", r.DueDate)
		}
		if d.After(today.AddDate(MaxDueDateYears, 0, 0)) {
			return FieldErrorf("dueDate", "due date %s is more than %d years ahead", r.DueDate, MaxDueDateYears)
		}
	}
	if len(r.ConnectionID) > MaxIDLength {
		return FieldErrorf("connectionId", "connectionId must be at most %d characters", MaxIDLength)
	}
	return nil
}

// DueAt returns the moment the due date stands for: the end of that day in
// UTC, or the zero time when there is none. Call after Validate.
func (r *TicketRequest) DueAt() time.Time {
	d, err := time.Parse(DueDateLayout, r.DueDate)
	if err != nil {
		return time.Time{}
	}
	return d.Add(24*time.Hour - time.Second)
}

// TicketAction is what a ticket records of one shared action, captured when
// the request is made so the ticket says what the person saw.
type TicketAction struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Source   Source   `json:"source"`
	Category Category `json:"category"`
	// Remediation is the action's remediation as plain text.
	Remediation string `json:"remediation"`
}

// Ticket is a stored ticket request and what became of it. Its ID is also
// the correlation_id of the ServiceNow record, which is how a retry finds a
// record whose creation answer was lost.
type Ticket struct {
	ID                string         `json:"id"`
	RecommendationIDs []string       `json:"recommendationIds"`
	Type              TicketType     `json:"type"`
	ConnectionID      string         `json:"connectionId"`
	Name              string         `json:"name"`
	Description       string         `json:"description"`
	Priority          int            `json:"priority"`
	DueDate           string         `json:"dueDate"`
	Actions           []TicketAction `json:"actions"`
	// RequestedBy is the sign-in name (user id) of the person who shared the
	// action(s), or "token:<name>" for an API token.
	RequestedBy string `json:"requestedBy"`

	Status TicketStatus `json:"status"`
	// Number, SysID, URL and State come from the instance once sent.
	Number    string `json:"number"`
	SysID     string `json:"sysId"`
	URL       string `json:"url"`
	State     string `json:"state"`
	StateName string `json:"stateName"`
	// StateClass is what the state means for the work; "" until the
	// first sync.
	StateClass StateClass `json:"stateClass"`
	// AssignedTo and AssignmentGroup are display names, from the instance.
	AssignedTo      string `json:"assignedTo"`
	AssignmentGroup string `json:"assignmentGroup"`
	// Error says in words why a failed ticket failed, or why a queued one
	// is waiting (e.g. the connection needs authorizing again).
	Error string `json:"error"`

	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
}

// Ticket list sorts.
const (
	TicketSortCreated = "created" // newest shared first (the default)
	TicketSortUpdated = "updated" // most recently changed first
	TicketSortName    = "name"    // by name, A to Z
)

// TicketSorts lists every ticket sort.
var TicketSorts = []string{TicketSortCreated, TicketSortUpdated, TicketSortName}

// Ticket list limits.
const (
	DefaultTicketPage = 100
	MaxTicketPage     = 1000
)

// TicketFilter selects tickets. Zero values do not filter.
type TicketFilter struct {
	RecommendationID string
	// Type is incident, change (change_request is read as change) or
	// problem.
	Type TicketType
	// State is a ServiceNow state value, such as "2"; with no Type it
	// matches that value in every table.
	State        string
	Status       TicketStatus
	Category     Category
	ConnectionID string
	// Assignee is the assigned_to display name, exactly.
	Assignee string
	// Overdue keeps the tickets the SLA counts overdue: sent, still open
	// in ServiceNow, due before today less the SLA's grace days.
	Overdue bool
	// Query searches the name and the number.
	Query string
	Sort  string
	// Limit caps the answer; stores apply a default and a ceiling.
	Limit int
	// Cursor continues from a page's next cursor.
	Cursor string
	// Backward reads the page that ends with the ticket Cursor names, the
	// Previous page of the one Cursor led to; the cursor returned is then
	// the one to read further back with Backward, "" at the first page.
	Backward bool
}

// ParseTicketType reads a ticket type as the API and the list accept it:
// the center's names and ServiceNow's table names.
func ParseTicketType(v string) (TicketType, bool) {
	switch v {
	case string(TicketIncident):
		return TicketIncident, true
	case string(TicketChange), StateTableChange:
		return TicketChange, true
	case string(TicketProblem):
		return TicketProblem, true
	}
	return "", false
}

// Validate returns EINVALID naming the first bad field: a type, status,
// category or sort not known, a state that is not a whole number, text
// that is not one line of valid text or too long, a limit out of range.
// Normalized then gives the type and category as stores keep them.
func (f TicketFilter) Validate() error {
	if f.Type != "" {
		if _, ok := ParseTicketType(string(f.Type)); !ok {
			return FieldErrorf("type", "type must be one of incident, change_request (or change), problem (got %q)", f.Type)
		}
	}
	if f.State != "" {
		if _, err := strconv.Atoi(f.State); err != nil {
			return FieldErrorf("state", "state must be a ServiceNow state value, a whole number such as 2 or -5 (got %q)", f.State)
		}
	}
	if f.Status != "" && !oneOf(TicketStatuses, f.Status) {
		return notOneOf("status", TicketStatuses, string(f.Status))
	}
	if f.Category != "" {
		if _, ok := ParseCategory(string(f.Category)); !ok {
			return f.Category.Validate()
		}
	}
	for _, p := range []struct{ field, v string }{{"connectionId", f.ConnectionID}, {"recommendationId", f.RecommendationID}} {
		if len(p.v) > MaxIDLength {
			return FieldErrorf(p.field, "%s must be at most %d characters", p.field, MaxIDLength)
		}
	}
	for _, p := range []struct{ field, v string }{{"assignee", f.Assignee}, {"q", f.Query}} {
		switch {
		case !utf8.ValidString(p.v) || strings.ContainsRune(p.v, 0):
			return FieldErrorf(p.field, "%s must be valid text", p.field)
		case utf8.RuneCountInString(p.v) > MaxQueryLength:
			return FieldErrorf(p.field, "%s must be at most %d characters (got %d)", p.field, MaxQueryLength, utf8.RuneCountInString(p.v))
		}
	}
	if f.Sort != "" && !oneOf(TicketSorts, f.Sort) {
		return notOneOf("sort", TicketSorts, f.Sort)
	}
	if f.Limit < 0 {
		return FieldErrorf("limit", "limit must be a positive whole number")
	}
	if len(f.Cursor) > MaxCursorLength {
		return FieldErrorf("cursor", "cursor is not one this server handed out; start again without it")
	}
	return nil
}

// Normalized returns the filter with its type and category as stores keep
// them (change_request as change, a category in its canonical case). Call
// after Validate.
func (f TicketFilter) Normalized() TicketFilter {
	if t, ok := ParseTicketType(string(f.Type)); ok {
		f.Type = t
	}
	if c, ok := ParseCategory(string(f.Category)); ok {
		f.Category = c
	}
	return f
}

// TicketAuditEntry is one exchange with the instance for a ticket: the exact
// payload sent, or the answer received.
type TicketAuditEntry struct {
	ID       int64  `json:"id"`
	TicketID string `json:"ticketId"`
	// Kind is "request", "response" or "error".
	Kind       string    `json:"kind"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	StatusCode int       `json:"statusCode"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

// TicketService creates ServiceNow tickets from improvement actions, exactly
// once each.
type TicketService interface {
	// CreateTickets validates every request, stores them and queues them
	// for sending, all or nothing: one ticket per request (a request with
	// several actions makes one grouped ticket). RequestedBy is the
	// context's user. Returns EINVALID naming the bad field, or ENOTFOUND
	// when an action does not exist.
	CreateTickets(ctx context.Context, reqs []*TicketRequest) ([]*Ticket, error)

	// FindTicketByID returns ENOTFOUND if there is no such ticket.
	FindTicketByID(ctx context.Context, id string) (*Ticket, error)

	// FindTickets returns tickets matching filter, newest first. Returns
	// EINVALID for a bad filter.
	FindTickets(ctx context.Context, filter TicketFilter) ([]*Ticket, error)

	// FindTicketPage returns one page of the tickets matching filter, in
	// its sort, and the cursor of the next page ("" at the end). Returns
	// EINVALID for a bad filter or cursor.
	FindTicketPage(ctx context.Context, filter TicketFilter) ([]*Ticket, string, error)

	// RetryTicket queues a failed ticket again. Returns ENOTFOUND, or
	// ECONFLICT when the ticket has not failed.
	RetryTicket(ctx context.Context, id string) (*Ticket, error)

	// FindTicketAudit returns a ticket's exchanges with the instance,
	// oldest first. Returns ENOTFOUND if there is no such ticket.
	FindTicketAudit(ctx context.Context, id string) ([]*TicketAuditEntry, error)
}
