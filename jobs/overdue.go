package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// QueueSLA is the River queue of the overdue check and its work notes.
const QueueSLA = "sla"

// SLASource reads the SLA in force (the SLA store).
type SLASource interface {
	SLA(ctx context.Context) (*scorebridge.SLA, error)
}

// CheckOverdueArgs is the periodic job that finds tickets past their due
// date. River's leader schedules it, so one check runs across replicas; it
// is unique while it waits or runs.
type CheckOverdueArgs struct{}

// Kind names the job in River's table.
func (CheckOverdueArgs) Kind() string { return "check_overdue" }

// InsertOpts puts the check on its queue, once while it waits or runs.
func (CheckOverdueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSLA, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// OverdueNoteArgs is the job that adds the overdue work note to one
// ticket in ServiceNow.
type OverdueNoteArgs struct {
	TicketID string `json:"ticket_id"`
}

// Kind names the job in River's table.
func (OverdueNoteArgs) Kind() string { return "overdue_note" }

// InsertOpts puts the note on the SLA queue.
func (OverdueNoteArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueSLA} }

type overdueCheckWorker struct {
	river.WorkerDefaults[CheckOverdueArgs]
	runner *Runner
}

func (w *overdueCheckWorker) Work(ctx context.Context, _ *river.Job[CheckOverdueArgs]) error {
	_, err := w.runner.CheckOverdue(ctx)
	return err
}

// CheckOverdue marks the tickets that went past their due date (and the
// SLA's grace days) since the last check, queues their work notes when the
// SLA asks for them, and tells the notifier once per check. The periodic
// job calls it; so may a person or a test.
func (r *Runner) CheckOverdue(ctx context.Context) ([]scorebridge.OverdueTicket, error) {
	if r.cfg.SLA == nil {
		return nil, nil
	}
	sla, err := r.cfg.SLA.SLA(ctx)
	if err != nil {
		return nil, err
	}
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "sla", Name: "sla"})
	found, err := r.store.MarkOverdue(ctx, sla.OverdueBefore(r.cfg.Now()), sla.OverdueWorkNote, r.enqueueOverdueNotes)
	if err != nil || len(found) == 0 {
		return found, err
	}
	r.cfg.Logger.Info("tickets went overdue", "tickets", len(found), "work_notes", sla.OverdueWorkNote)
	if r.cfg.Notifier != nil {
		n := scorebridge.Notification{Kind: scorebridge.NotifyTicketOverdue, Cause: "sla:overdue",
			Subject: fmt.Sprintf("%d ticket(s) went past their due date", len(found)),
			Links:   []scorebridge.NotificationLink{{Title: "Overdue tickets", URL: r.cfg.CenterURL + "/tickets?overdue=true"}}}
		for _, o := range found {
			n.Details += o.Number + " (" + string(o.Type) + "), due " + o.DueDate + "\n"
		}
		if err := r.cfg.Notifier.Notify(ctx, n); err != nil {
			r.cfg.Logger.Error("overdue notification not recorded", "error", err)
		}
	}
	return found, nil
}

func (r *Runner) enqueueOverdueNotes(ctx context.Context, tx sqlstore.TicketTx, ids []string) error {
	return r.insertJobs(ctx, tx, "overdue note", ids, func(id string) river.JobArgs { return OverdueNoteArgs{TicketID: id} })
}

type overdueNoteWorker struct {
	river.WorkerDefaults[OverdueNoteArgs]
	sender *sender
	sla    SLASource
}

// Work adds the note unless it was added already. The note ends with a
// reference naming this job, the same on every attempt; a retry (an
// earlier attempt's PATCH may have reached the instance, its answer lost)
// first reads the record's work notes for it and, when it is there, only
// records what the lost answer would have. So the note is written once.
func (w *overdueNoteWorker) Work(ctx context.Context, job *river.Job[OverdueNoteArgs]) error {
	s := w.sender
	noted, err := s.store.OverdueNoted(ctx, job.Args.TicketID)
	if err != nil || noted {
		return err
	}
	t, err := s.store.FindTicketByID(ctx, job.Args.TicketID)
	if scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
		return river.JobCancel(err)
	} else if err != nil {
		return err
	}
	if t.SysID == "" {
		return river.JobCancel(fmt.Errorf("ticket %s has no ServiceNow record", t.ID))
	}
	inst, err := s.instances.ConnectedInstance(ctx, t.ConnectionID)
	switch scorebridge.ErrorCode(err) {
	case "":
	case scorebridge.EUNAUTHORIZED:
		return river.JobSnooze(s.authWait)
	default:
		return err
	}
	grace := 0
	if sla, err := w.sla.SLA(ctx); err == nil {
		grace = sla.GraceDays
	}
	ref := "scorebridge-overdue-" + strconv.FormatInt(job.ID, 10)
	note := scorebridge.OverdueNote(t.DueDate, grace) + " Reference: " + ref
	table := servicenow.TicketTable(t.Type)
	client := servicenow.NewClient(inst.BaseURL, inst.HTTPClient)
	pace := s.pacers.get(inst.ConnectionID)
	event := &scorebridge.AuditEvent{Action: scorebridge.AuditTicketOverdue, Target: t.ID,
		Detail: map[string]any{"number": t.Number, "table": table, "workNote": note, "dueDate": t.DueDate}}
	if job.Attempt > 1 {
		done, err := s.updateApplied(ctx, client, pace, t, ref)
		if err != nil {
			return overdueRetry(err)
		}
		if done {
			s.logger.Info("overdue work note found on the instance; not sent again", "ticket", t.ID, "number", t.Number)
			return s.store.MarkOverdueNoted(context.WithoutCancel(ctx), t.ID, event)
		}
	}
	fields := map[string]string{"work_notes": note}
	body, _ := json.Marshal(fields)
	_, err = s.call(ctx, pace, t.ID, http.MethodPatch, "/api/now/table/"+table+"/"+t.SysID, string(body), func(ctx context.Context) (servicenow.Record, error) {
		return client.Update(ctx, table, t.SysID, fields)
	})
	if err != nil {
		return overdueRetry(err)
	}
	return s.store.MarkOverdueNoted(context.WithoutCancel(ctx), t.ID, event)
}

// overdueRetry is what a failed call makes of the job: a wait as long as
// the instance asked for after a 429, else a retry with River's backoff.
func overdueRetry(err error) error {
	var e *servicenow.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests && e.RetryAfter > 0 {
		return river.JobSnooze(e.RetryAfter)
	}
	return err
}
