package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// CreateTicketArgs is the job that sends one ticket request.
type CreateTicketArgs struct {
	TicketID string `json:"ticket_id"`
}

// Kind implements river.JobArgs.
func (CreateTicketArgs) Kind() string { return "create_ticket" }

// InsertOpts puts ticket jobs on their own queue.
func (CreateTicketArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTickets}
}

type ticketWorker struct {
	river.WorkerDefaults[CreateTicketArgs]
	sender  *sender
	timeout time.Duration
}

// Timeout is the attempt's bound (Config.JobTimeout).
func (w *ticketWorker) Timeout(*river.Job[CreateTicketArgs]) time.Duration { return w.timeout }

func (w *ticketWorker) Work(ctx context.Context, job *river.Job[CreateTicketArgs]) error {
	err := w.sender.send(ctx, job.Args.TicketID)
	var refused *refusal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		// The instance will refuse the same request again: stop here and
		// say why.
		return river.JobCancel(w.sender.fail(ctx, job.Args.TicketID, refused.reason))
	case errors.As(err, new(*river.JobSnoozeError)):
		return err
	case job.Attempt >= job.MaxAttempts:
		reason := fmt.Sprintf("ServiceNow could not be reached after %d attempts; the last error: %s", job.Attempt, describe(err))
		return river.JobCancel(w.sender.fail(ctx, job.Args.TicketID, reason))
	}
	w.sender.logger.Warn("ticket not sent yet; will retry", "ticket", job.Args.TicketID, "attempt", job.Attempt, "error", err)
	return err
}

// sender does the work of one ticket job.
type sender struct {
	notifier  scorebridge.Notifier
	store     TicketStore
	parents   parentFinder
	instances scorebridge.InstanceSource
	pacers    *pacers
	logger    *slog.Logger
	centerURL string
	authWait  time.Duration
	timeout   time.Duration
}

// parentFinder finds the record a ticket follows (sqlstore.DriftStore).
type parentFinder interface {
	ParentSysID(ctx context.Context, ticketID string) (string, error)
}

// refusal is an answer that will not change on a retry.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

// send makes the ServiceNow record for ticket id, or adopts the one an
// earlier attempt made. It returns a *refusal when retrying cannot help and
// a river.JobSnooze when the instance or the connection asks to wait.
func (s *sender) send(ctx context.Context, id string) error {
	t, err := s.store.FindTicketByID(ctx, id)
	if scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
		return river.JobCancel(err)
	} else if err != nil {
		return err
	}
	if t.Status != scorebridge.TicketQueued {
		return nil // sent, or failed and waiting for a person's retry
	}
	inst, err := s.instances.ConnectedInstance(ctx, t.ConnectionID)
	switch scorebridge.ErrorCode(err) {
	case "":
	case scorebridge.EUNAUTHORIZED:
		return s.waitForAuthorization(ctx, t.ID, err)
	case scorebridge.ENOTFOUND:
		return &refusal{reason: "No ServiceNow connection to send it to: " + scorebridge.ErrorMessage(err) + " Connect an instance, then retry."}
	default:
		return err
	}
	if t.Error != "" {
		// The wait it recorded is over.
		if err := s.store.SetTicketWaiting(ctx, t.ID, ""); err != nil {
			return err
		}
	}
	client := servicenow.NewClient(inst.BaseURL, inst.HTTPClient)
	table := servicenow.TicketTable(t.Type)
	pace := s.pacers.get(inst.ConnectionID)

	// A create that may have reached the instance is looked up first: its
	// answer may have been lost after the record was committed.
	tried, err := s.store.CreateMayExist(ctx, t.ID)
	if err != nil {
		return err
	}
	if tried {
		rec, err := s.call(ctx, pace, t.ID, http.MethodGet, lookupPath(table, t.ID), "", func(ctx context.Context) (servicenow.Record, error) {
			return client.FindByCorrelationID(ctx, table, t.ID)
		})
		if err != nil {
			return s.classify(ctx, pace, t.ID, err)
		}
		if rec != nil {
			s.logger.Info("ticket found on the instance; adopting it", "ticket", t.ID, "number", rec["number"])
			return s.markSent(ctx, t, inst.BaseURL, table, rec, true)
		}
	}

	fields := servicenow.TicketFields(t, s.actionURL)
	// A new linked ticket names the drifted one it follows as its parent.
	parent, err := s.parents.ParentSysID(ctx, t.ID)
	if err != nil {
		return err
	}
	if parent != "" {
		fields["parent"] = parent
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", t.ID, err)
	}
	rec, err := s.call(ctx, pace, t.ID, http.MethodPost, "/api/now/table/"+table, string(body), func(ctx context.Context) (servicenow.Record, error) {
		return client.Create(ctx, table, fields)
	})
	if err != nil {
		return s.classify(ctx, pace, t.ID, err)
	}
	return s.markSent(ctx, t, inst.BaseURL, table, rec, false)
}

// call audits the request, waits for the connection's pace, sends, and
// audits the answer. The request is written before it is sent, so after a
// crash the next attempt knows the instance may hold the record.
func (s *sender) call(ctx context.Context, pace *pacer, ticketID, method, path, body string, do func(context.Context) (servicenow.Record, error)) (servicenow.Record, error) {
	if err := s.store.AddTicketAudit(ctx, &scorebridge.TicketAuditEntry{TicketID: ticketID, Kind: "request", Method: method, Path: path, Body: body}); err != nil {
		return nil, err
	}
	if err := pace.Wait(ctx); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	rec, err := do(cctx)
	cancel()
	entry := &scorebridge.TicketAuditEntry{TicketID: ticketID, Kind: "response", Method: method, Path: path}
	var snErr *servicenow.Error
	switch {
	case err == nil:
		entry.StatusCode = http.StatusOK
		if method == http.MethodPost {
			entry.StatusCode = http.StatusCreated
		}
		if rec == nil {
			entry.Body = `{"result":[]}`
		} else if b, merr := json.Marshal(map[string]any{"result": rec}); merr == nil {
			entry.Body = string(b)
		}
	case errors.As(err, &snErr):
		entry.Kind = "error"
		entry.StatusCode = snErr.StatusCode
		entry.Body = describe(err)
	default:
		entry.Kind = "error"
		entry.Body = describe(err)
	}
	if aerr := s.store.AddTicketAudit(context.WithoutCancel(ctx), entry); aerr != nil && err == nil {
		// The record exists on the instance; failing here would only make
		// the next attempt look it up and adopt it, so carry on.
		s.logger.Error("ticket audit not written", "ticket", ticketID, "error", aerr)
	}
	return rec, err
}

// classify turns a failed call into what the job should do.
func (s *sender) classify(ctx context.Context, pace *pacer, ticketID string, err error) error {
	if scorebridge.ErrorCode(err) == scorebridge.EUNAUTHORIZED {
		// The connection's token source gave up mid-call (refresh refused).
		return s.waitForAuthorization(ctx, ticketID, err)
	}
	var e *servicenow.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		// The instance no longer accepts the connection's credentials.
		return s.waitForAuthorization(ctx, ticketID, err)
	case e.StatusCode == http.StatusTooManyRequests || (e.StatusCode == http.StatusServiceUnavailable && e.RetryAfter > 0):
		wait := e.RetryAfter
		if wait <= 0 {
			wait = 5 * time.Second
		}
		if e.StatusCode == http.StatusTooManyRequests {
			// A rate limit counts every request of the integration user:
			// everyone on this connection waits, not just this job. A 503
			// may come from one busy node, so only its job waits.
			if err := pace.Pause(ctx, wait); err != nil {
				s.logger.Warn("rate limit pause not shared", "ticket", ticketID, "error", err)
			}
		}
		return river.JobSnooze(wait)
	case e.Temporary():
		return err
	default:
		return &refusal{reason: refusalReason(e)}
	}
}

// authorizationWaitReason is what a ticket waiting for its connection to
// be authorized says; WakeConnection finds those tickets by it.
const authorizationWaitReason = "Waiting: the ServiceNow connection needs an admin to authorize it again; the ticket is sent once that is done."

func (s *sender) waitForAuthorization(ctx context.Context, ticketID string, cause error) error {
	if err := s.store.SetTicketWaiting(ctx, ticketID, authorizationWaitReason); err != nil {
		return err
	}
	s.logger.Info("ticket waiting for the connection to be authorized", "ticket", ticketID, "cause", scorebridge.ErrorMessage(cause))
	return river.JobSnooze(s.authWait)
}

// markSent records the instance's record for the ticket together with its
// ticket.send audit event (the payload sent, the number it got), in one
// transaction: a failure to audit fails the change, and the next attempt
// adopts the record by its correlation id and tries again. adopted says the
// record was found by that lookup rather than answered to this create.
func (s *sender) markSent(ctx context.Context, t *scorebridge.Ticket, baseURL, table string, rec servicenow.Record, adopted bool) error {
	r := sqlstore.TicketResult{
		Number:    rec["number"],
		SysID:     rec.SysID(),
		URL:       servicenow.RecordURL(baseURL, table, rec.SysID()),
		State:     rec["state"],
		StateName: servicenow.StateName(t.Type, rec["state"]),
	}
	event := &scorebridge.AuditEvent{Action: scorebridge.AuditTicketSend, Target: t.ID, Detail: map[string]any{
		"requested_by": t.RequestedBy, "type": string(t.Type), "actions": t.RecommendationIDs, "table": table,
		"number": rec["number"], "payload": servicenow.TicketFields(t, s.actionURL), "adopted": adopted,
	}}
	if err := s.store.MarkTicketSent(context.WithoutCancel(ctx), t.ID, r, event); err != nil {
		return fmt.Errorf("record ticket %s as sent (%s): %w", t.ID, r.Number, err)
	}
	return nil
}

// fail records the reason and returns it as an error for River's record.
func (s *sender) fail(ctx context.Context, id, reason string) error {
	if err := s.store.MarkTicketFailed(context.WithoutCancel(ctx), id, reason); err != nil {
		s.logger.Error("ticket failure not recorded", "ticket", id, "error", err)
	}
	s.logger.Warn("ticket failed", "ticket", id, "reason", reason)
	if s.notifier != nil {
		// Tickets refused for the same reason share one cause: a missing
		// mandatory field fails every ticket alike, and is one message.
		n := scorebridge.Notification{
			Kind: scorebridge.NotifyTicketFailed, Cause: "ticket-failed:" + clipCause(reason),
			Subject: "A ticket could not be created in ServiceNow", Details: reason,
			Links: []scorebridge.NotificationLink{{Title: "The ticket", URL: s.centerURL + "/tickets/" + url.PathEscape(id)}},
		}
		if err := s.notifier.Notify(context.WithoutCancel(ctx), n); err != nil {
			s.logger.Error("ticket failure not notified", "ticket", id, "error", err)
		}
	}
	return errors.New(reason)
}

// clipCause keeps a cause key short enough to store whole.
func clipCause(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200])
	}
	return s
}

func (s *sender) actionURL(id string) string {
	return s.centerURL + "/actions/" + url.PathEscape(id)
}

func lookupPath(table, id string) string {
	return "/api/now/table/" + table + "?" + url.Values{"sysparm_query": {"correlation_id=" + id}}.Encode()
}
