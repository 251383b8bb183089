package scorebridge

import (
	"context"
	"time"
)

// NotificationKind is what happened that someone should hear of.
type NotificationKind string

const (
	// NotifyAuthorizationRequired: a ServiceNow connection's refresh token
	// was refused; tickets wait until an admin authorizes again.
	NotifyAuthorizationRequired NotificationKind = "connection.authorization_required"
	// NotifyTicketFailed: a ticket could not be created and will not be
	// tried again without a person.
	NotifyTicketFailed NotificationKind = "ticket.failed"
	// NotifyControlRegressed: controls that were achieved no longer are.
	NotifyControlRegressed NotificationKind = "control.regressed"
	// NotifyTicketDrift: a ticket closed while its control is still not
	// achieved.
	NotifyTicketDrift NotificationKind = "ticket.drift"
	// NotifyTicketOverdue: tickets went past their due date.
	NotifyTicketOverdue NotificationKind = "ticket.overdue"
	// NotifyImportFailed: a posture connector could not be read.
	NotifyImportFailed NotificationKind = "import.failed"
	// NotifyTest is the message an admin sends to try a target.
	NotifyTest NotificationKind = "test"
)

// NotificationKinds lists the kinds a target can subscribe to, in the
// order the settings page shows them.
var NotificationKinds = []NotificationKind{
	NotifyAuthorizationRequired, NotifyTicketFailed, NotifyControlRegressed,
	NotifyTicketDrift, NotifyTicketOverdue, NotifyImportFailed,
}

// Valid reports whether k is a kind a target can subscribe to.
func (k NotificationKind) Valid() bool {
	for _, v := range NotificationKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Label is the kind as the settings page and messages name it.
func (k NotificationKind) Label() string {
	switch k {
	case NotifyAuthorizationRequired:
		return "A connection needs authorization"
	case NotifyTicketFailed:
		return "A ticket failed for good"
	case NotifyControlRegressed:
		return "A control regressed"
	case NotifyTicketDrift:
		return "A ticket drifted"
	case NotifyTicketOverdue:
		return "Tickets went overdue"
	case NotifyImportFailed:
		return "An import failed"
	case NotifyTest:
		return "Test message"
	}
	return string(k)
}

// Notification is one event worth telling people about. Events of the
// same Kind and Cause within a target's digest period become one message:
// a broken connection with 50 waiting tickets is one message, not 50.
type Notification struct {
	Kind NotificationKind `json:"kind"`
	// Cause names the root cause: "connection:<id>" for everything a
	// broken connection causes, "source:<id>" for an import's, a ticket's
	// own id when it stands alone. Required.
	Cause string `json:"cause"`
	// Subject is one line a person reads first.
	Subject string `json:"subject"`
	// Details says more, in plain text (never a secret).
	Details string `json:"details,omitempty"`
	// Links lead to where it can be fixed, in the center or elsewhere.
	Links []NotificationLink `json:"links,omitempty"`
	// At is when it happened; the notifier fills it in when zero.
	At time.Time `json:"at"`
}

// NotificationLink is a named link in a message.
type NotificationLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Notifier tells the configured targets (email, webhooks) of an event. It
// only records the event: grouping and delivery happen in the background,
// so a caller never waits on a mail server, and a failure to record is
// returned for the caller to log, never to undo its own work.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc is a function as a Notifier.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }
