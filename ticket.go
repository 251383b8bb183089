package scorebridge

import (
	"context"
	"strings"
	"time"
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
	// Error says in words why a failed ticket failed, or why a queued one
	// is waiting (e.g. the connection needs authorizing again).
	Error string `json:"error"`

	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
}

// TicketFilter selects tickets. Zero values do not filter.
type TicketFilter struct {
	RecommendationID string
	Status           TicketStatus
	// Limit caps the answer; stores apply a default and a ceiling.
	Limit int
}

// Validate returns EINVALID for a status not in TicketStatuses or a
// negative limit.
func (f TicketFilter) Validate() error {
	if f.Status != "" && !oneOf(TicketStatuses, f.Status) {
		return notOneOf("status", TicketStatuses, string(f.Status))
	}
	if f.Limit < 0 {
		return FieldErrorf("limit", "limit must be a positive whole number")
	}
	return nil
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

	// RetryTicket queues a failed ticket again. Returns ENOTFOUND, or
	// ECONFLICT when the ticket has not failed.
	RetryTicket(ctx context.Context, id string) (*Ticket, error)

	// FindTicketAudit returns a ticket's exchanges with the instance,
	// oldest first. Returns ENOTFOUND if there is no such ticket.
	FindTicketAudit(ctx context.Context, id string) ([]*TicketAuditEntry, error)
}
