package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// Changes an update job makes to a sent ticket's record.
const (
	ChangeReopen  = "reopen"  // back to In Progress: drift
	ChangeResolve = "resolve" // resolved (a change request closed): its action is completed
)

// UpdateTicketArgs is the job that changes a sent ticket's record.
type UpdateTicketArgs struct {
	TicketID string `json:"ticket_id"`
	Change   string `json:"change"`
}

// Kind implements river.JobArgs.
func (UpdateTicketArgs) Kind() string { return "update_ticket" }

// InsertOpts puts update jobs on the ticket queue, paced with the rest.
func (UpdateTicketArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTickets}
}

type updateWorker struct {
	river.WorkerDefaults[UpdateTicketArgs]
	sender *sender
}

// reopenStates are the In Progress value per ticket type.
var reopenStates = map[scorebridge.TicketType]string{scorebridge.TicketIncident: "2", scorebridge.TicketChange: "-1", scorebridge.TicketProblem: "104"}

// resolveFields are the state, the close code field and its value a
// resolve sets per ticket type: an incident is Resolved, a change request
// (which has no resolved state) Closed as successful, a problem Resolved
// with its fix applied. The codes and notes are what the close data
// policies of most instances require.
var resolveFields = map[scorebridge.TicketType][3]string{
	scorebridge.TicketIncident: {"6", "close_code", "Solution provided"},
	scorebridge.TicketChange:   {"3", "close_code", "successful"},
	scorebridge.TicketProblem:  {"106", "resolution_code", "fix_applied"},
}

func (w *updateWorker) Work(ctx context.Context, job *river.Job[UpdateTicketArgs]) error {
	err := w.sender.update(ctx, job.Args.TicketID, job.Args.Change, updateRef(job), job.Attempt > 1)
	var refused *refusal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		w.sender.logger.Warn("ticket not updated: the instance refused", "ticket", job.Args.TicketID, "change", job.Args.Change, "reason", refused.reason)
		return river.JobCancel(refused)
	case errors.As(err, new(*river.JobSnoozeError)), errors.As(err, new(*river.JobCancelError)):
		return err
	case job.Attempt >= job.MaxAttempts:
		w.sender.logger.Warn("ticket not updated after every attempt", "ticket", job.Args.TicketID, "change", job.Args.Change, "error", err)
		return river.JobCancel(err)
	}
	w.sender.logger.Warn("ticket not updated yet; will retry", "ticket", job.Args.TicketID, "change", job.Args.Change, "attempt", job.Attempt, "error", err)
	return err
}

// updateRef names one update job in the work note it writes, the same on
// every attempt, so that a retry can tell whether the note is there.
func updateRef(job *river.Job[UpdateTicketArgs]) string {
	return "scorebridge-" + job.Args.Change + "-" + strconv.FormatInt(job.ID, 10)
}

// update makes one change to a sent ticket's record, unless the record is
// known to be there already (reopening an open ticket, resolving a
// finished one). ref goes into the work note; retried (an earlier attempt
// may have reached the instance, its answer lost), the record's work notes
// are read first and the change is not sent again when one carries ref, so
// the note is written once. The requests and answers go to the ticket's
// audit.
func (s *sender) update(ctx context.Context, id, change, ref string, retried bool) error {
	t, err := s.store.FindTicketByID(ctx, id)
	if scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
		return river.JobCancel(err)
	} else if err != nil {
		return err
	}
	if t.Status != scorebridge.TicketSent || t.SysID == "" {
		return river.JobCancel(fmt.Errorf("ticket %s has no ServiceNow record to update", id))
	}
	class := scorebridge.ClassifyState(t.Type, t.State)
	if (change == ChangeReopen && class == scorebridge.ClassOpen) || (change == ChangeResolve && class != scorebridge.ClassOpen) {
		return nil
	}
	fields, err := updateFields(t, change, ref)
	if err != nil {
		return river.JobCancel(err)
	}
	inst, err := s.instances.ConnectedInstance(ctx, t.ConnectionID)
	if scorebridge.ErrorCode(err) == scorebridge.EUNAUTHORIZED {
		return river.JobSnooze(s.authWait)
	} else if scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
		return &refusal{reason: scorebridge.ErrorMessage(err)}
	} else if err != nil {
		return err
	}
	client := servicenow.NewClient(inst.BaseURL, inst.HTTPClient)
	table := servicenow.TicketTable(t.Type)
	pace := s.pacers.get(inst.ConnectionID)
	if retried {
		done, err := s.updateApplied(ctx, client, pace, t, ref)
		if err != nil {
			return s.classify(ctx, pace, t.ID, err)
		}
		if done {
			s.logger.Info("ticket update found on the instance; not sent again", "ticket", t.ID, "number", t.Number, "change", change)
			return nil
		}
	}
	body, _ := json.Marshal(fields)
	_, err = s.call(ctx, pace, t.ID, http.MethodPatch, "/api/now/table/"+table+"/"+t.SysID, string(body), func(ctx context.Context) (servicenow.Record, error) {
		return client.Update(ctx, table, t.SysID, fields)
	})
	if err == nil {
		s.logger.Info("ticket updated", "ticket", t.ID, "number", t.Number, "change", change)
		return nil
	}
	var e *servicenow.Error
	if scorebridge.ErrorCode(err) == scorebridge.EUNAUTHORIZED || (errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized) {
		// Waits for an admin to authorize the connection again; the
		// ticket itself is sent, so nothing is written on it.
		return river.JobSnooze(s.authWait)
	}
	return s.classify(ctx, pace, t.ID, err)
}

// updateApplied reports whether the record has a work note carrying ref:
// the journal, not the record's state, says whether the note was written
// (a business rule may keep the state from changing).
func (s *sender) updateApplied(ctx context.Context, client *servicenow.Client, pace *pacer, t *scorebridge.Ticket, ref string) (bool, error) {
	opts := servicenow.ListOptions{Query: "element_id=" + t.SysID + "^element=work_notes^valueLIKE" + ref, Fields: []string{"sys_id"}, Limit: 1, NoCount: true}
	path := "/api/now/table/" + journalTable + "?" + url.Values{"sysparm_query": {opts.Query}}.Encode()
	rec, err := s.call(ctx, pace, t.ID, http.MethodGet, path, "", func(ctx context.Context) (servicenow.Record, error) {
		recs, _, err := client.List(ctx, journalTable, opts)
		if err != nil || len(recs) == 0 {
			return nil, err
		}
		return recs[0], nil
	})
	return rec != nil, err
}

// journalTable holds a record's work notes and comments, one row each.
const journalTable = "sys_journal_field"

// updateFields are the fields a change writes, with a work note saying
// why, ending with ref (and, to resolve, the close code and notes).
func updateFields(t *scorebridge.Ticket, change, ref string) (map[string]string, error) {
	var titles []string
	for _, a := range t.Actions {
		titles = append(titles, a.Title)
	}
	covers := strings.Join(titles, "; ")
	switch change {
	case ChangeReopen:
		state, ok := reopenStates[t.Type]
		if !ok {
			return nil, fmt.Errorf("no In Progress state for %s tickets", t.Type)
		}
		was := t.StateName
		if was == "" {
			was = "finished"
		}
		return map[string]string{
			"state":      state,
			"work_notes": "Reopened by scorebridge: this ticket is " + was + " but the security control it covers is still not achieved (" + covers + "). Reference: " + ref,
		}, nil
	case ChangeResolve:
		f, ok := resolveFields[t.Type]
		if !ok {
			return nil, fmt.Errorf("no resolved state for %s tickets", t.Type)
		}
		note := "Resolved by scorebridge: the security control this ticket covers is now achieved and its improvement action is Completed (" + covers + ")."
		return map[string]string{"state": f[0], f[1]: f[2], "close_notes": note, "work_notes": note + " Reference: " + ref}, nil
	}
	return nil, fmt.Errorf("unknown ticket change %q", change)
}

// enqueueUpdates returns the enqueue function that queues change for
// each ticket in the transaction it is given.
func (r *Runner) enqueueUpdates(change string) sqlstore.EnqueueFunc {
	return func(ctx context.Context, tx sqlstore.TicketTx, ids []string) error {
		return r.insertJobs(ctx, tx, "ticket "+change, ids, func(id string) river.JobArgs { return UpdateTicketArgs{TicketID: id, Change: change} })
	}
}
