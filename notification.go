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

// NotificationChannel is how a target is reached.
type NotificationChannel string

const (
	ChannelEmail   NotificationChannel = "email"   // SMTP with STARTTLS
	ChannelWebhook NotificationChannel = "webhook" // an HTTPS POST, signed
)

// DigestPeriod says how a target's messages are grouped in time.
type DigestPeriod string

const (
	// DigestImmediate sends the first event of a cause at once; further
	// events of that cause within the hour join it and send nothing more.
	DigestImmediate DigestPeriod = "immediate"
	// DigestHourly sends one message an hour listing each cause once.
	DigestHourly DigestPeriod = "hourly"
	// DigestDaily sends one message a day (UTC) listing each cause once.
	DigestDaily DigestPeriod = "daily"
)

// Period is how long one group of a cause lasts: an hour for immediate
// and hourly targets, a day for daily ones.
func (d DigestPeriod) Period() time.Duration {
	if d == DigestDaily {
		return 24 * time.Hour
	}
	return time.Hour
}

// WebhookFormat is the body a webhook target is sent.
type WebhookFormat string

const (
	WebhookJSON  WebhookFormat = "json"  // the center's own JSON body
	WebhookSlack WebhookFormat = "slack" // a Slack incoming webhook's {"text"}
	WebhookTeams WebhookFormat = "teams" // a Microsoft Teams workflow's Adaptive Card message
)

// NotificationTarget is where notifications go: an email address list or
// a webhook. Its secrets (the SMTP password, the webhook URL, which for
// Slack and Teams is itself a credential, and the signing secret) are
// never part of it; Has* say whether they are set.
type NotificationTarget struct {
	ID      string              `json:"id"`
	Name    string              `json:"name"`
	Channel NotificationChannel `json:"channel"`
	Enabled bool                `json:"enabled"`
	Digest  DigestPeriod        `json:"digest"`
	// Events are the kinds the target hears of; empty means all.
	Events []NotificationKind `json:"events"`

	SMTPHost        string   `json:"smtpHost,omitempty"`
	SMTPPort        int      `json:"smtpPort,omitempty"`
	SMTPUsername    string   `json:"smtpUsername,omitempty"`
	HasSMTPPassword bool     `json:"hasSmtpPassword"`
	From            string   `json:"from,omitempty"`
	To              []string `json:"to,omitempty"`

	// WebhookHost is the webhook URL's host, the only part shown.
	WebhookHost      string        `json:"webhookHost,omitempty"`
	WebhookFormat    WebhookFormat `json:"webhookFormat,omitempty"`
	HasWebhookSecret bool          `json:"hasWebhookSecret"`

	// Failures counts deliveries failed in a row; LastError says why the
	// latest did.
	Failures    int        `json:"failures"`
	LastError   string     `json:"lastError,omitempty"`
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
	LastSentAt  *time.Time `json:"lastSentAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// Hears reports whether the target subscribes to kind (a test message
// always reaches it).
func (t *NotificationTarget) Hears(kind NotificationKind) bool {
	if kind == NotifyTest || len(t.Events) == 0 {
		return true
	}
	for _, k := range t.Events {
		if k == kind {
			return true
		}
	}
	return false
}

// NotificationSecrets are a target's secrets as an admin gives them. On an
// update, an empty one keeps the stored value.
type NotificationSecrets struct {
	SMTPPassword  string `json:"smtpPassword,omitempty"`
	WebhookURL    string `json:"webhookUrl,omitempty"`
	WebhookSecret string `json:"webhookSecret,omitempty"`
}

// FailingTargetThreshold is how many failed deliveries in a row make a
// target shown as failing.
const FailingTargetThreshold = 3

// Failing reports whether the target keeps failing.
func (t *NotificationTarget) Failing() bool { return t.Failures >= FailingTargetThreshold }

// NotificationService keeps the targets and sends test messages.
type NotificationService interface {
	// FindTargets lists every target.
	FindTargets(ctx context.Context) ([]*NotificationTarget, error)
	// FindTarget returns ENOTFOUND for an unknown id.
	FindTarget(ctx context.Context, id string) (*NotificationTarget, error)
	// CreateTarget validates and stores t with its secrets sealed. When no
	// webhook signing secret is given one is made, and returned here only.
	// Returns EINVALID naming the field.
	CreateTarget(ctx context.Context, t *NotificationTarget, s NotificationSecrets) (signingSecret string, err error)
	// UpdateTarget replaces a target's settings; empty secrets are kept.
	// Returns ENOTFOUND or EINVALID.
	UpdateTarget(ctx context.Context, t *NotificationTarget, s NotificationSecrets) error
	// DeleteTarget removes a target. Returns ENOTFOUND.
	DeleteTarget(ctx context.Context, id string) error
	// TestTarget sends a test message now and returns the delivery error,
	// if any (EUNAVAILABLE with what the server said).
	TestTarget(ctx context.Context, id string) error
}

// NotificationGroup is the events of one kind and cause that reached one
// target within one period: they are sent as one message.
type NotificationGroup struct {
	ID          int64              `json:"id"`
	TargetID    string             `json:"targetId"`
	Kind        NotificationKind   `json:"kind"`
	Cause       string             `json:"cause"`
	PeriodStart time.Time          `json:"periodStart"`
	Subject     string             `json:"subject"`
	Details     string             `json:"details,omitempty"`
	Links       []NotificationLink `json:"links,omitempty"`
	// Events counts the events gathered; the subject and details are the
	// first one's.
	Events  int        `json:"events"`
	FirstAt time.Time  `json:"firstAt"`
	LastAt  time.Time  `json:"lastAt"`
	SentAt  *time.Time `json:"sentAt,omitempty"`
}
