package scorebridge

import (
	"context"
	"time"
)

// StateClass is what a ticket's state means for the work, whatever the
// instance calls it: the action follows the class, not the label.
type StateClass string

const (
	ClassOpen     StateClass = "open"     // someone is (or will be) working on it
	ClassResolved StateClass = "resolved" // the work is reported done, not yet closed
	ClassClosed   StateClass = "closed"   // finished
	ClassCanceled StateClass = "canceled" // dropped without doing the work
	ClassDeleted  StateClass = "deleted"  // the record was deleted in ServiceNow
)

// DeletedStateName is what a ticket whose record was deleted shows.
const DeletedStateName = "Deleted in ServiceNow"

// stateClasses are the state values of a fresh instance that are not open,
// per ticket type. Values an instance adds are open: a custom state is
// almost always an intermediate one.
var stateClasses = map[TicketType]map[string]StateClass{
	TicketIncident: {"6": ClassResolved, "7": ClassClosed, "8": ClassCanceled},
	TicketChange:   {"3": ClassClosed, "4": ClassCanceled},
	TicketProblem:  {"106": ClassResolved, "107": ClassClosed},
}

// ClassifyState returns what a state value of a ticket type means.
func ClassifyState(t TicketType, value string) StateClass {
	if c, ok := stateClasses[t][value]; ok {
		return c
	}
	return ClassOpen
}

// Done reports whether the class ends the work on the ticket (resolved or
// closed): the moment the action's posture decides between Completed and
// drift.
func (c StateClass) Done() bool { return c == ClassResolved || c == ClassClosed }

// RecordChange is the state of a ServiceNow record as the center tracks it,
// read by a sync or received by push. ModCount orders changes: one with a
// lower or equal ModCount than the ticket holds is stale and ignored.
type RecordChange struct {
	SysID           string    `json:"sysId"`
	Table           string    `json:"table"`
	ModCount        int       `json:"modCount"`
	UpdatedOn       time.Time `json:"updatedOn"`
	State           string    `json:"state"`
	AssignedTo      string    `json:"assignedTo"`
	AssignmentGroup string    `json:"assignmentGroup"`
	Priority        string    `json:"priority"`
	DueDate         string    `json:"dueDate"`
	CloseCode       string    `json:"closeCode"`
	CloseNotes      string    `json:"closeNotes"`
	ResolvedAt      string    `json:"resolvedAt"`
	ClosedAt        string    `json:"closedAt"`
	WorkNotes       string    `json:"workNotes"`
	Comments        string    `json:"comments"`
	// Deleted marks a record deleted in ServiceNow.
	Deleted bool `json:"deleted"`
	// Source says how the change arrived: "sync" or "push".
	Source string `json:"source"`
}

// DriftPolicy is what the center does by default when a ticket finishes
// while its action's control is still not achieved.
type DriftPolicy string

const (
	DriftNone   DriftPolicy = "none"   // show the drift; a person decides
	DriftReopen DriftPolicy = "reopen" // set the ticket back to In Progress with a work note
	DriftNew    DriftPolicy = "new"    // share a new ticket linked to the finished one
)

// Valid reports whether p is a known policy.
func (p DriftPolicy) Valid() bool { return p == DriftNone || p == DriftReopen || p == DriftNew }

// ActionFollow is what a ticket's state change does to its action.
type ActionFollow struct {
	// State is the action's new control state; "" leaves it as it is.
	State State
	// Drift is true when the ticket finished but the control is not
	// achieved.
	Drift bool
}

// FollowTicket decides what an action does when its ticket's state class
// changes: Planned while open, Completed when done and achieved, drift when
// done and not achieved, back to To address when canceled or deleted.
func FollowTicket(class StateClass, achieved bool) ActionFollow {
	switch {
	case class == ClassOpen:
		return ActionFollow{State: StatePlanned}
	case class.Done() && achieved:
		return ActionFollow{State: StateCompleted}
	case class.Done():
		return ActionFollow{Drift: true}
	case class == ClassCanceled || class == ClassDeleted:
		return ActionFollow{State: StateToAddress}
	}
	return ActionFollow{}
}

// StateCount is one state's ticket count on a home page card.
type StateCount struct {
	State     string `json:"state"`
	StateName string `json:"stateName"`
	Count     int    `json:"count"`
}

// SummaryLatest is how many of a type's latest tickets a card lists.
const SummaryLatest = 5

// TicketTypeSummary is a card: counts by state of the tickets sent, the
// total, and the latest tickets shared (whatever their status).
type TicketTypeSummary struct {
	ByState []StateCount `json:"byState"`
	Total   int          `json:"total"`
	Latest  []*Ticket    `json:"latest"`
}

// SyncResult says what one sync of a connection did.
type SyncResult struct {
	ConnectionID string `json:"connectionId"`
	// Calls is how many ServiceNow requests the sync made.
	Calls int `json:"calls"`
	// Changed is how many records came back changed; Applied how many of
	// them moved a ticket forward; Deleted how many deletions were found.
	Changed int `json:"changed"`
	Applied int `json:"applied"`
	Deleted int `json:"deleted"`
	// Watermark is the sys_updated_on the next sync starts from (minus
	// the overlap).
	Watermark time.Time `json:"watermark"`
}

// TrackingService brings ticket state back from ServiceNow.
type TrackingService interface {
	// SyncConnection reads every tracked record of the connection changed
	// since its watermark and applies it. Returns ENOTFOUND, EUNAUTHORIZED
	// (authorization required) and EUNAVAILABLE.
	SyncConnection(ctx context.Context, connectionID string) (*SyncResult, error)
	// Summary counts tickets by type and state.
	Summary(ctx context.Context) (map[TicketType]*TicketTypeSummary, error)
	// ReceivePush verifies a push a business rule sent (HMAC-SHA256 of
	// timestamp + "." + body with the connection's push secret) and
	// applies its change. Returns EUNAUTHORIZED for an unsigned, badly
	// signed or stale push, ECONFLICT for a replay, EINVALID for a bad body.
	ReceivePush(ctx context.Context, connectionID, timestamp, signature string, body []byte) error
	// PushSecret returns the connection's push secret, made on first use.
	PushSecret(ctx context.Context, connectionID string) (string, error)
	// TicketTracking returns what the center tracks of a ticket's record
	// and its history of changes. Returns ENOTFOUND.
	TicketTracking(ctx context.Context, ticketID string) (*TicketTracking, error)
}

// TicketTracking is what the center knows of a ticket's ServiceNow record:
// its tracked fields as last read, the latest journal entries, the drift
// links, and every change it tracked.
type TicketTracking struct {
	TicketID        string `json:"ticketId"`
	State           string `json:"state"`
	StateName       string `json:"stateName"`
	StateClass      string `json:"stateClass"`
	AssignedTo      string `json:"assignedTo"`
	AssignmentGroup string `json:"assignmentGroup"`
	// Priority is the record's priority value (1 to 5).
	Priority   string `json:"priority"`
	DueDate    string `json:"dueDate"`
	CloseCode  string `json:"closeCode"`
	CloseNotes string `json:"closeNotes"`
	ResolvedAt string `json:"resolvedAt"`
	ClosedAt   string `json:"closedAt"`
	// UpdatedOn is the record's sys_updated_on (UTC) as last read.
	UpdatedOn string `json:"updatedOn"`
	// WorkNotes and Comments are the latest journal entries read.
	WorkNotes string `json:"workNotes"`
	Comments  string `json:"comments"`
	Drift     bool   `json:"drift"`
	// FollowsTicketID is the drifted ticket this one follows;
	// FollowedByTicketID the new linked ticket that follows this one.
	FollowsTicketID    string               `json:"followsTicketId,omitempty"`
	FollowedByTicketID string               `json:"followedByTicketId,omitempty"`
	History            []TicketHistoryEntry `json:"history"`
}

// TicketHistoryEntry is one tracked change of a ticket's record.
type TicketHistoryEntry struct {
	At        time.Time `json:"at"`
	Source    string    `json:"source"`
	ModCount  int       `json:"modCount"`
	State     string    `json:"state"`
	StateName string    `json:"stateName"`
	// Change is the record as that change brought it.
	Change *RecordChange `json:"change,omitempty"`
}

// ControlAchieved reports whether the posture data says the action's
// control is in place: its current score reaches its maximum.
func (r *Recommendation) ControlAchieved() bool {
	return r.MaxScore > 0 && r.CurrentScore >= r.MaxScore
}
