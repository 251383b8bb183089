package scorebridge

import (
	"context"
	"strings"
	"time"
)

// Audit actions. Other parts may record their own, named the same way:
// a noun, a dot, a verb.
const (
	AuditSignIn             = "signin"              // a person signed in (or failed to: Outcome says)
	AuditSignOut            = "signout"             // a person signed out
	AuditPasswordChange     = "password.change"     // a local account changed its password
	AuditAccountCreate      = "account.create"      // an account was created
	AuditTokenCreate        = "token.create"        // an API token was made
	AuditTokenRevoke        = "token.revoke"        // an API token was revoked
	AuditTokenUse           = "token.use"           // an API token was presented (first use each hour)
	AuditRequest            = "request"             // a state-changing HTTP request: who, which route, the status
	AuditConnection         = "connection"          // a ServiceNow connection was created, changed or removed
	AuditTicketSend         = "ticket.send"         // a ticket was sent to ServiceNow, with its payload
	AuditStateChange        = "state.change"        // an action's state changed
	AuditScoreChange        = "score.change"        // an action's current score was edited, with the old and new values
	AuditImport             = "import"              // recommendations were imported
	AuditPostureSource      = "source"              // a posture source was created or changed, or the catalog removed
	AuditSecretsRotate      = "secrets.rotate"      // the encryption key was rotated
	AuditTicketTrack        = "ticket.track"        // a ticket's state changed in ServiceNow (sync or push)
	AuditNotificationTarget = "notification.target" // a notification target was created, changed, removed or tested
	AuditSettings           = "settings"            // a setting changed, with its old and new values
	AuditDrift              = "drift"               // a drifted ticket was reopened or followed by a new linked ticket
	AuditTicketResolve      = "ticket.resolve"      // the center asked ServiceNow to resolve a ticket whose action is completed
	AuditSLA                = "sla"                 // the SLA (due days, grace, overdue work note) changed, with old and new values
	AuditTicketOverdue      = "ticket.overdue"      // tickets went past their due date (and whether a work note was queued)
	AuditRule               = "rule"                // an automation rule was created, changed, enabled, disabled or deleted
	AuditRuleRun            = "rule.run"            // an automation rule ran: the tickets it queued and whether its cap was hit
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditEvent is one thing someone did, as the audit log keeps it.
type AuditEvent struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is who acted (ActorFromContext), or the name someone tried to
	// sign in as.
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Outcome string `json:"outcome"`
	// Target names what was acted on: a route, a token id, a ticket id.
	Target string `json:"target"`
	// Address is the network address the request came from, when there was
	// one.
	Address string `json:"address"`
	// Detail holds the rest (a ticket's payload, a status code). Values
	// under secret-looking keys are replaced before storing: see
	// RedactSecrets.
	Detail map[string]any `json:"detail,omitempty"`
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	Actor   string
	Action  string
	Outcome string
	Address string
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	// Limit caps the page (default and maximum 500). Cursor continues
	// from the previous page's next cursor.
	Limit  int
	Cursor string
}

// MaxAuditPage is the largest page FindAuditEvents returns.
const MaxAuditPage = 500

// Validate returns EINVALID for a limit outside 0 (the default) to
// MaxAuditPage, the one ceiling the API and the stores share.
func (f AuditFilter) Validate() error {
	if f.Limit < 0 || f.Limit > MaxAuditPage {
		return FieldErrorf("limit", "limit must be a whole number from 1 to %d.", MaxAuditPage)
	}
	return nil
}

// AuditService records who did what and answers questions about it.
type AuditService interface {
	// RecordAuditEvent appends an event. At defaults to now, Actor to
	// ActorFromContext and Outcome to success. Secrets in Detail are
	// redacted first. Returns EINVALID when Action is empty.
	RecordAuditEvent(ctx context.Context, e *AuditEvent) error

	// FindAuditEvents returns matching events, newest first, and the cursor
	// of the next page ("" at the end). Returns EINVALID for a bad cursor.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, string, error)

	// CountAuditEvents counts matching events (Limit and Cursor ignored);
	// sign-in throttling counts recent failures with it.
	CountAuditEvents(ctx context.Context, f AuditFilter) (int, error)
}

// redacted replaces a secret value in an audit record.
const redacted = "[redacted]"

// secretKeyWords mark a detail key whose value must not be kept.
var secretKeyWords = []string{"password", "secret", "token", "authorization", "cookie", "verifier", "credential", "apikey", "api_key", "private"}

// isSecretKey reports whether a detail key names a secret.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretKeyWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// RedactSecrets returns a copy of detail with the value of every key that
// names a secret (password, secret, token, authorization, ...) replaced, at
// any depth, so an audit record can never hold one even when a caller
// passes a whole payload.
func RedactSecrets(detail map[string]any) map[string]any {
	if detail == nil {
		return nil
	}
	out := make(map[string]any, len(detail))
	for k, v := range detail {
		if isSecretKey(k) {
			out[k] = redacted
			continue
		}
		out[k] = redactValue(v)
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return RedactSecrets(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redactValue(e)
		}
		return out
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = e
		}
		return RedactSecrets(m)
	}
	return v
}

// NewContextWithAudit returns a context carrying an AuditService, so code
// deep in a call (a job, a store) can record an event without a new
// parameter. The web server and the commands put theirs there.
func NewContextWithAudit(ctx context.Context, s AuditService) context.Context {
	return context.WithValue(ctx, auditContextKey{}, s)
}

type auditContextKey struct{}

// RecordAudit records an event with the AuditService of ctx, if it has one.
// Recording is best effort for the caller: a failure is returned for the
// caller to log but must not undo the work it describes.
func RecordAudit(ctx context.Context, e *AuditEvent) error {
	if s, _ := ctx.Value(auditContextKey{}).(AuditService); s != nil {
		return s.RecordAuditEvent(ctx, e)
	}
	return nil
}

type addressContextKey struct{}

// NewContextWithAddress returns a context carrying the network address a
// request came from, so a service that records the audit event of its
// change in the change's own transaction knows where it came from.
func NewContextWithAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addressContextKey{}, addr)
}

// AddressFromContext returns the address of NewContextWithAddress, or "".
func AddressFromContext(ctx context.Context) string {
	a, _ := ctx.Value(addressContextKey{}).(string)
	return a
}
