package tracking_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// driftBundle is a tracking bundle with the durable job runner, the
// settings and the drift store the center wires together.
type driftBundle struct {
	*bundle
	runner   *jobs.Runner
	drift    *jobs.DriftService
	settings *sqlstore.SettingsStore
	recs     scorebridge.RecommendationService // completing here resolves tickets
}

func setupDrift(t *testing.T, db backend, settings map[string]string) *driftBundle {
	t.Helper()
	b := setupOn(t, db, tracking.Config{}, snowsim.Options{})
	runner, err := jobs.New(b.ctx, jobs.Config{DB: b.db, Instances: b.inst, Recommendations: b.recs, Logger: b.logger(),
		CenterURL: "https://center.example", RequestsPerSecond: -1, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(b.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(ctx)
	})
	d := &driftBundle{bundle: b, runner: runner, drift: runner.Drift(), settings: sqlstore.NewSettingsStore(b.db)}
	if len(settings) > 0 {
		if _, err := d.settings.UpdateSettings(b.ctx, settings); err != nil {
			t.Fatal(err)
		}
	}
	if b.svc, err = tracking.New(tracking.Config{Store: b.store, Instances: b.inst, Recommendations: b.recs, Logger: b.logger(),
		Settings: d.settings, Drift: sqlstore.NewDriftStore(b.db), Actions: d.drift}); err != nil {
		t.Fatal(err)
	}
	d.recs = &tracking.ResolvingRecommendations{RecommendationService: b.recs, Tracking: b.svc}
	return d
}

// whenJobs runs do, then waits until n jobs of kind have finished
// (completed), as River reports them; a cancelled or failed one fails the
// test.
func (d *driftBundle) whenJobs(t *testing.T, kind string, n int, do func()) {
	t.Helper()
	events, stop := d.runner.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	defer stop()
	do()
	timeout := time.After(30 * time.Second)
	for done := 0; done < n; {
		select {
		case e := <-events:
			if e.Job.Kind != kind {
				continue
			}
			if e.Kind != river.EventKindJobCompleted {
				t.Fatalf("%s job %s: %v", kind, e.Kind, e.Job.Errors)
			}
			done++
		case <-timeout:
			t.Fatalf("%d of %d %s jobs finished after 30s", done, n, kind)
		}
	}
}

// jobCount is how many jobs of kind were ever queued.
func (d *driftBundle) jobCount(t *testing.T, kind string) int {
	t.Helper()
	q := `SELECT COUNT(*) FROM river_job WHERE kind = ?`
	if d.db.Dialect == sqlstore.DialectPostgres {
		q = `SELECT COUNT(*) FROM river_job WHERE kind = $1`
	}
	var n int
	if err := d.db.SQL.QueryRowContext(d.ctx, q, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// workNotes are the work notes journaled on a record, newest last.
func (d *driftBundle) workNotes(t *testing.T, sysID string) string {
	t.Helper()
	rows, err := d.sim.Query("sys_journal_field", "element_id="+sysID+"^element=work_notes")
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, r := range rows {
		notes = append(notes, r["value"])
	}
	return strings.Join(notes, "\n")
}

func (d *driftBundle) driftOf(t *testing.T, actionID string) []*scorebridge.DriftItem {
	t.Helper()
	items, _, err := d.drift.FindDrift(d.ctx, scorebridge.DriftFilter{ActionID: actionID})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func (d *driftBundle) ticketsOf(t *testing.T, actionID string) []*scorebridge.Ticket {
	t.Helper()
	ts, err := d.tickets.FindTickets(d.ctx, scorebridge.TicketFilter{RecommendationID: actionID})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

var resolved = map[string]string{"state": "6", "close_code": "Solution provided", "close_notes": "done"}

func TestDriftPolicyReopensOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, map[string]string{scorebridge.SettingDriftPolicy: "reopen"})
		tk := d.share(t, "mfa", scorebridge.TicketIncident, false)
		d.sync(t)
		d.patch(t, "incident", tk.SysID, resolved)
		d.whenJobs(t, "update_ticket", 1, func() { d.sync(t) })
		rec, _ := d.sim.Get("incident", tk.SysID)
		if rec["state"] != "2" {
			t.Fatalf("the drifted ticket is in state %q on the instance, want 2 (In Progress)", rec["state"])
		}
		if notes := d.workNotes(t, tk.SysID); !strings.Contains(notes, "still not achieved") {
			t.Fatalf("no work note saying why it was reopened: %q", notes)
		}
		// The next sync sees it open again: the drift is over, and nothing
		// reopens it a second time.
		d.sync(t)
		d.sync(t)
		if items := d.driftOf(t, "mfa"); len(items) != 0 {
			t.Fatalf("drift still listed after the reopen: %+v", items[0])
		}
		if n := d.jobCount(t, "update_ticket"); n != 1 {
			t.Fatalf("%d reopen jobs, want 1", n)
		}
		if s := d.ticket(t, tk.ID).State; s != "2" {
			t.Fatalf("ticket state %q in the center, want 2", s)
		}
	})
}

func TestDriftPolicyNewLinkedTicketOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, map[string]string{scorebridge.SettingDriftPolicy: "new"})
		old := d.share(t, "mfa", scorebridge.TicketIncident, false)
		d.sync(t)
		d.patch(t, "incident", old.SysID, resolved)
		d.whenJobs(t, "create_ticket", 1, func() { d.sync(t) })
		ts := d.ticketsOf(t, "mfa")
		if len(ts) != 2 {
			t.Fatalf("%d tickets for the action, want the drifted one and its follow-up", len(ts))
		}
		linked := ts[0]
		if linked.ID == old.ID {
			linked = ts[1]
		}
		oldNumber := d.ticket(t, old.ID).Number
		if linked.Type != scorebridge.TicketIncident || !strings.Contains(linked.Description, "Follows "+oldNumber) {
			t.Fatalf("linked ticket %s %q: want an incident saying it follows %s", linked.Type, linked.Description, oldNumber)
		}
		linked = d.ticket(t, linked.ID)
		if linked.Status != scorebridge.TicketSent {
			t.Fatalf("linked ticket %s: %s", linked.Status, linked.Error)
		}
		rec, _ := d.sim.Get("incident", linked.SysID)
		if rec["parent"] != old.SysID || !strings.Contains(rec["description"], "Follows "+oldNumber) {
			t.Fatalf("linked record: parent %q (want %q), description %q", rec["parent"], old.SysID, rec["description"])
		}
		// Resolved, then closed: the same drift, no second ticket.
		d.patch(t, "incident", old.SysID, map[string]string{"state": "7"})
		d.sync(t)
		if n := len(d.ticketsOf(t, "mfa")); n != 2 {
			t.Fatalf("%d tickets after the drifted one closed, want 2", n)
		}
		if n := d.jobCount(t, "create_ticket"); n != 1 {
			t.Fatalf("%d create jobs, want 1", n)
		}
	})
}

func TestDriftByHandReopenOrNewOnceAndResolvedAchievedCompletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, nil)
		ok := d.share(t, "ok", scorebridge.TicketIncident, true)
		a := d.share(t, "a", scorebridge.TicketIncident, false)
		c := d.share(t, "c", scorebridge.TicketChange, false)
		d.sync(t)
		d.patch(t, "incident", ok.SysID, resolved)
		d.patch(t, "incident", a.SysID, resolved)
		d.patch(t, "change_request", c.SysID, map[string]string{"state": "3", "close_code": "successful", "close_notes": "done"})
		d.sync(t)
		if s := d.actionState(t, "ok"); s != scorebridge.StateCompleted {
			t.Fatalf("resolved with the control achieved: action %q, want completed", s)
		}
		if items := d.driftOf(t, "ok"); len(items) != 0 {
			t.Fatalf("a ticket resolved with its control achieved is listed as drift")
		}
		all, _, err := d.drift.FindDrift(d.ctx, scorebridge.DriftFilter{Limit: 1})
		if err != nil || len(all) != 1 {
			t.Fatalf("first page of drift: %v %v", all, err)
		}
		// Policy none: nothing acted.
		if n := d.jobCount(t, "update_ticket") + d.jobCount(t, "create_ticket"); n != 0 {
			t.Fatalf("%d jobs queued with the drift policy none", n)
		}
		var item *scorebridge.DriftItem
		d.whenJobs(t, "update_ticket", 1, func() {
			if item, err = d.drift.ReopenDrift(d.ctx, "a"); err != nil {
				t.Fatal(err)
			}
		})
		if item.Handling != scorebridge.DriftReopen || item.HandledBy != "alice" {
			t.Fatalf("drift after reopen: %+v", item)
		}
		if _, err := d.drift.ReopenDrift(d.ctx, "a"); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
			t.Fatalf("second reopen: %v, want a conflict", err)
		}
		if _, err := d.drift.NewLinkedTicket(d.ctx, "a"); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
			t.Fatalf("new ticket after a reopen: %v, want a conflict", err)
		}
		if rec, _ := d.sim.Get("incident", a.SysID); rec["state"] != "2" {
			t.Fatalf("reopened incident in state %q", rec["state"])
		}
		var linked *scorebridge.Ticket
		d.whenJobs(t, "create_ticket", 1, func() {
			if linked, err = d.drift.NewLinkedTicket(d.ctx, "c"); err != nil {
				t.Fatal(err)
			}
		})
		if linked.Type != scorebridge.TicketChange {
			t.Fatalf("linked ticket type %q, want change", linked.Type)
		}
		if _, err := d.drift.NewLinkedTicket(d.ctx, "c"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Fatalf("second new ticket: %v, want not found (the drift moved to the new ticket)", err)
		}
		events, _, err := sqlstore.NewAuditStore(d.db).FindAuditEvents(d.ctx, scorebridge.AuditFilter{Action: scorebridge.AuditDrift})
		if err != nil || len(events) != 2 {
			t.Fatalf("drift audit events: %d %v", len(events), err)
		}
	})
}

func TestResolveOnCompleted(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, map[string]string{scorebridge.SettingResolveOnCompleted: "true"})
		d.sim.SetDataPolicy(true) // resolving needs close_code and close_notes
		inc := d.share(t, "inc", scorebridge.TicketIncident, false)
		chg := d.share(t, "chg", scorebridge.TicketChange, false)
		off := d.share(t, "off", scorebridge.TicketIncident, false)
		d.sync(t)
		completed := scorebridge.StateCompleted
		d.whenJobs(t, "update_ticket", 2, func() {
			for _, id := range []string{"inc", "chg"} {
				if _, err := d.recs.UpdateRecommendation(d.ctx, id, scorebridge.RecommendationUpdate{State: &completed}); err != nil {
					t.Fatal(err)
				}
			}
		})
		rec, _ := d.sim.Get("incident", inc.SysID)
		if rec["state"] != "6" || rec["close_code"] == "" || !strings.Contains(rec["close_notes"], "achieved") {
			t.Fatalf("incident after its action completed: state %q, close %q %q", rec["state"], rec["close_code"], rec["close_notes"])
		}
		if notes := d.workNotes(t, inc.SysID); !strings.Contains(notes, "Completed") {
			t.Fatalf("no work note: %q", notes)
		}
		if rec, _ := d.sim.Get("change_request", chg.SysID); rec["state"] != "3" || rec["close_code"] != "successful" {
			t.Fatalf("change after its action completed: state %q close %q", rec["state"], rec["close_code"])
		}
		// Completed again (after a step back) asks nothing more of a
		// ticket already asked; with the setting off nothing is asked.
		back := scorebridge.StatePlanned
		d.recs.UpdateRecommendation(d.ctx, "inc", scorebridge.RecommendationUpdate{State: &back})
		d.recs.UpdateRecommendation(d.ctx, "inc", scorebridge.RecommendationUpdate{State: &completed})
		if _, err := d.settings.UpdateSettings(d.ctx, map[string]string{scorebridge.SettingResolveOnCompleted: "false"}); err != nil {
			t.Fatal(err)
		}
		d.recs.UpdateRecommendation(d.ctx, "off", scorebridge.RecommendationUpdate{State: &completed})
		if n := d.jobCount(t, "update_ticket"); n != 2 {
			t.Fatalf("%d resolve jobs, want 2", n)
		}
		if rec, _ := d.sim.Get("incident", off.SysID); rec["state"] != "1" {
			t.Fatalf("with the setting off the ticket moved to %q", rec["state"])
		}
		d.sync(t)
		if s := d.actionState(t, "inc"); s != scorebridge.StateCompleted {
			t.Fatalf("action %q after its ticket resolved", s)
		}
	})
}

// A control achieved when its ticket closed, then regressed by a newer
// import, follows the drift policy: a new linked ticket, once.
func TestRegressionFollowsDriftPolicy(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, map[string]string{scorebridge.SettingDriftPolicy: "new"})
		store := sqlstore.NewPostureStore(d.db, nil)
		im := &posture.Importer{Store: store}
		imp, err := im.ImportFile(d.ctx, "graph_export.json", fixture(t, "graph_export.json"), "upload")
		if err != nil {
			t.Fatal(err)
		}
		id := scorebridge.ImportedID(imp.SourceID, "mdm_enroll")
		old := d.shareAction(t, id, scorebridge.TicketIncident)
		d.sync(t)
		d.patch(t, "incident", old.SysID, resolved)
		d.sync(t)
		if items := d.driftOf(t, id); len(items) != 0 {
			t.Fatal("a ticket resolved while its control was achieved is drift")
		}
		newer, err := im.ImportFile(d.ctx, "graph_export_newer.json", fixture(t, "graph_export_newer.json"), "cli")
		if err != nil || newer.Regressed == 0 {
			t.Fatalf("newer import: %+v %v", newer, err)
		}
		d.whenJobs(t, "create_ticket", 1, func() {
			if err := d.svc.FollowRegressions(d.ctx); err != nil {
				t.Fatal(err)
			}
		})
		ts := d.ticketsOf(t, id)
		if len(ts) != 2 || !strings.Contains(ts[0].Description, "Follows") {
			t.Fatalf("tickets of the regressed action: %d", len(ts))
		}
		// Followed again (the next sync does): nothing more.
		if err := d.svc.SyncAll(d.ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.svc.FollowRegressions(d.ctx); err != nil {
			t.Fatal(err)
		}
		if n := d.jobCount(t, "create_ticket"); n != 1 {
			t.Fatalf("%d new tickets for one regression, want 1", n)
		}
	})
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "posture", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// notes records notifications: the notifier is a domain interface.
type notes struct {
	mu  sync.Mutex
	got []scorebridge.Notification
}

func (n *notes) Notify(_ context.Context, x scorebridge.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
	return nil
}

// A drift found is heard once by the listeners (the notifications).
func TestDriftEventNotifiesOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, nil)
		heard := &notes{}
		d.svc.AddDriftListener(tracking.DriftNotifier{Notifier: heard, CenterURL: "https://center.example/"})
		tk := d.share(t, "mfa", scorebridge.TicketIncident, false)
		d.sync(t)
		d.patch(t, "incident", tk.SysID, resolved)
		d.sync(t)
		d.patch(t, "incident", tk.SysID, map[string]string{"state": "7"})
		d.sync(t)
		if len(heard.got) != 1 {
			t.Fatalf("%d drift notifications, want 1: %+v", len(heard.got), heard.got)
		}
		n := heard.got[0]
		if n.Kind != scorebridge.NotifyTicketDrift || n.Cause != "drift:finished" || !strings.Contains(n.Subject, tk.ID) || len(n.Links) != 2 || n.Links[1].URL != "https://center.example/actions/mfa" {
			t.Fatalf("drift notification %+v", n)
		}
	})
}

// An import that completes an action (a source state such as Graph's
// Reviewed) resolves its open ticket as a person's completion does.
func TestImportCompletionResolvesOpenTicket(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		d := setupDrift(t, db, map[string]string{scorebridge.SettingResolveOnCompleted: "true"})
		tk := d.share(t, "graph", scorebridge.TicketIncident, false)
		d.sync(t)
		mark := d.svc.ImportMark(d.ctx)
		// The import's own write: a state change, not through the
		// service that resolves.
		completed := scorebridge.StateCompleted
		if _, err := d.bundle.recs.UpdateRecommendation(d.ctx, "graph", scorebridge.RecommendationUpdate{State: &completed, StateNote: "The source's state is now Reviewed."}); err != nil {
			t.Fatal(err)
		}
		d.whenJobs(t, "update_ticket", 1, func() {
			if err := d.svc.ImportApplied(d.ctx, mark, false); err != nil {
				t.Fatal(err)
			}
		})
		if rec, _ := d.sim.Get("incident", tk.SysID); rec["state"] != "6" {
			t.Fatalf("incident of an action an import completed is in state %q, want 6", rec["state"])
		}
		if err := d.svc.ImportApplied(d.ctx, mark, false); err != nil {
			t.Fatal(err)
		}
		if n := d.jobCount(t, "update_ticket"); n != 1 {
			t.Fatalf("%d resolve jobs, want 1", n)
		}
	})
}
