package scorebridge

import (
	"context"
	"time"
)

// DriftReason says how a drift began.
type DriftReason string

const (
	// DriftFinished: the ticket was resolved or closed while the control
	// was not achieved.
	DriftFinished DriftReason = "finished"
	// DriftRegressed: the control was achieved, then regressed after its
	// ticket had finished.
	DriftRegressed DriftReason = "regressed"
)

// Label says the reason in words.
func (r DriftReason) Label() string {
	switch r {
	case DriftFinished:
		return "Ticket finished, control not achieved"
	case DriftRegressed:
		return "Control regressed after its ticket finished"
	}
	return string(r)
}

// DriftHandling is what was done about a drift: "" nothing yet, or one of
// the policies that act (DriftReopen, DriftNew).
type DriftHandling = DriftPolicy

// DriftItem is one action whose ticket finished while its control is not
// achieved: the drift list's row.
type DriftItem struct {
	ActionID     string      `json:"actionId"`
	ActionTitle  string      `json:"actionTitle"`
	TicketID     string      `json:"ticketId"`
	TicketType   TicketType  `json:"ticketType"`
	TicketNumber string      `json:"ticketNumber"`
	TicketURL    string      `json:"ticketUrl"`
	StateName    string      `json:"stateName"`
	Reason       DriftReason `json:"reason"`
	// At is when the drift was found.
	At time.Time `json:"at"`
	// Handling is what was asked ("" nothing yet, "reopen" or "new"), by
	// whom ("policy" when the drift policy acted) and when.
	Handling  DriftHandling `json:"handling"`
	HandledBy string        `json:"handledBy,omitempty"`
	HandledAt *time.Time    `json:"handledAt,omitempty"`
	// FollowUpTicketID is the new linked ticket, when one was asked for.
	FollowUpTicketID string `json:"followUpTicketId,omitempty"`
}

// DriftFilter pages the drift list. Cursor is the Next of the previous
// page.
type DriftFilter struct {
	ActionID string
	Cursor   string
	Limit    int
}

// DriftService lists drift and acts on it. Each action goes through the
// durable job queue and is audited; a drift is acted on once.
type DriftService interface {
	// FindDrift returns drifted actions, newest first, and the cursor of
	// the next page ("" at the end).
	FindDrift(ctx context.Context, f DriftFilter) ([]*DriftItem, string, error)
	// ReopenDrift queues setting the action's drifted ticket back to In
	// Progress with a work note saying why. Returns ENOTFOUND when the
	// action has no drift, ECONFLICT when it was acted on already.
	ReopenDrift(ctx context.Context, actionID string) (*DriftItem, error)
	// NewLinkedTicket queues a new ticket of the same type for the
	// action, linked to the drifted one (ServiceNow's parent field, the
	// description, and the center's record). Errors as ReopenDrift.
	NewLinkedTicket(ctx context.Context, actionID string) (*Ticket, error)
	// CountDrift counts the tickets in drift now, up to MaxDriftCount.
	CountDrift(ctx context.Context) (DriftCount, error)
}

// DriftEvent is a drift found: a ticket finished without its control, or
// a control regressed after its ticket finished.
type DriftEvent struct {
	TicketID  string      `json:"ticketId"`
	ActionIDs []string    `json:"actionIds"`
	Reason    DriftReason `json:"reason"`
	StateName string      `json:"stateName"`
	At        time.Time   `json:"at"`
	// Policy is the drift policy in force when it was found.
	Policy DriftPolicy `json:"policy"`
}

// DriftListener hears of each drift once, when it is found (notifications
// subscribe here). It must not block: slow work belongs in a job.
type DriftListener interface {
	DriftDetected(ctx context.Context, e DriftEvent)
}

// MaxDriftCount bounds the home page's drift count: it reads at most this
// many tickets (one step more to know there are more), from an index, so
// the card costs the same at 100 and 100,000 tickets.
const MaxDriftCount = 1000

// DriftCount is how many tickets are in drift now (resolved or closed in
// ServiceNow while the control is still not achieved): the home page's
// Drift card.
type DriftCount struct {
	// Tickets is the count, at most MaxDriftCount.
	Tickets int `json:"tickets"`
	// More is true when there are more than MaxDriftCount.
	More bool `json:"more"`
}
