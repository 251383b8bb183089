package tracking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

type basicAuth struct {
	base http.RoundTripper
	// refuse401 makes every request from the n-th on answer 401 until reset.
	calls, refuseFrom atomic.Int64
	// user and password sign the requests; admin/admin when empty.
	user, password string
}

func (b *basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	n := b.calls.Add(1)
	r = r.Clone(r.Context())
	if f := b.refuseFrom.Load(); f > 0 && n >= f {
		r.SetBasicAuth("admin", "wrong")
	} else if b.user != "" {
		r.SetBasicAuth(b.user, b.password)
	} else {
		r.SetBasicAuth("admin", "admin")
	}
	return b.base.RoundTrip(r)
}

type instances struct {
	url  string
	auth *basicAuth
}

func (s *instances) ConnectedInstance(ctx context.Context, id string) (*scorebridge.ConnectedInstance, error) {
	return &scorebridge.ConnectedInstance{ConnectionID: "c1", BaseURL: s.url, HTTPClient: &http.Client{Transport: s.auth}}, nil
}

type bundle struct {
	sim     *snowsim.Instance
	url     string
	inst    *instances
	db      *sqlstore.DB
	tickets *sqlstore.TicketStore
	recs    scorebridge.RecommendationService
	store   *sqlstore.TrackingStore
	svc     *tracking.Service
	ctx     context.Context
}

func setup(t testing.TB, cfg tracking.Config) *bundle {
	t.Helper()
	return setupSim(t, cfg, snowsim.Options{})
}

// backend is a database the suite runs on.
type backend struct {
	name string
	dsn  func(t testing.TB) string
}

// backends are SQLite and, with SCOREBRIDGE_TEST_POSTGRES set, PostgreSQL.
func backends() []backend {
	bs := []backend{{name: sqlstore.DialectSQLite, dsn: func(t testing.TB) string { return filepath.Join(t.TempDir(), "sb.db") }}}
	if base := dbtest.PostgresURL(); base != "" {
		bs = append(bs, backend{name: sqlstore.DialectPostgres, dsn: func(t testing.TB) string { return dbtest.PostgresSchema(t, base, "tracking") }})
	}
	return bs
}

// forEachDB runs f once on every back end.
func forEachDB(t *testing.T, f func(t *testing.T, db backend)) {
	for _, db := range backends() {
		t.Run(db.name, func(t *testing.T) { f(t, db) })
	}
}

func setupSim(t testing.TB, cfg tracking.Config, opts snowsim.Options) *bundle {
	t.Helper()
	return setupOn(t, backends()[0], cfg, opts)
}

func setupOn(t testing.TB, be backend, cfg tracking.Config, opts snowsim.Options) *bundle {
	t.Helper()
	sim, err := snowsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { sim.Close() })
	ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "u-1", Name: "alice", Role: scorebridge.RoleAdmin})
	db, err := sqlstore.Open(ctx, be.dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{sim: sim, url: srv.URL, db: db, ctx: ctx,
		inst:    &instances{url: srv.URL, auth: &basicAuth{base: http.DefaultTransport}},
		tickets: sqlstore.NewTicketStore(db), recs: sqlstore.NewRecommendationService(db), store: sqlstore.NewTrackingStore(db, box)}
	cfg.Store, cfg.Instances, cfg.Recommendations = b.store, b.inst, b.recs
	cfg.Logger = b.logger()
	if b.svc, err = tracking.New(cfg); err != nil {
		t.Fatal(err)
	}
	return b
}

// share stores a sent ticket for a new action whose control is achieved
// or not, with its record made on the simulator as the ticket job makes it.
func (b *bundle) share(t testing.TB, id string, typ scorebridge.TicketType, achieved bool) *scorebridge.Ticket {
	t.Helper()
	r := &scorebridge.Recommendation{ID: id, Title: "Action " + id, Category: scorebridge.CategoryIdentity,
		Source: scorebridge.SourceUser, SourceTool: scorebridge.ToolUser, MaxScore: 10, State: scorebridge.StateToAddress}
	if achieved {
		r.CurrentScore = 10
	}
	if err := b.recs.CreateRecommendation(b.ctx, r); err != nil {
		t.Fatal(err)
	}
	return b.shareAction(t, id, typ)
}

// shareAction stores a sent ticket for an existing action, its record made
// on the simulator as the ticket job makes it.
func (b *bundle) shareAction(t testing.TB, id string, typ scorebridge.TicketType) *scorebridge.Ticket {
	t.Helper()
	r, err := b.recs.FindRecommendationByID(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	tk := &scorebridge.Ticket{ID: "t-" + strings.ReplaceAll(id, ":", "-"), Actions: []scorebridge.TicketAction{{ID: id, Title: r.Title}}, RecommendationIDs: []string{id}, Type: typ, Name: "Fix " + id, Priority: 3, RequestedBy: "alice"}
	if err := b.tickets.InsertTickets(b.ctx, []*scorebridge.Ticket{tk}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	table := servicenow.TicketTable(typ)
	rec, err := b.sim.Insert(table, servicenow.TicketFields(tk, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.tickets.MarkTicketSent(b.ctx, tk.ID, sqlstore.TicketResult{Number: rec["number"], SysID: rec["sys_id"], State: rec["state"], StateName: "New"}, nil); err != nil {
		t.Fatal(err)
	}
	tk.SysID = rec["sys_id"]
	return tk
}

// patch changes a record as an agent does, through the Table API.
func (b *bundle) patch(t testing.TB, table, sysID string, fields map[string]string) {
	t.Helper()
	c := servicenow.NewClient(b.url, &http.Client{Transport: &basicAuth{base: http.DefaultTransport}})
	if _, err := c.Update(b.ctx, table, sysID, fields); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) logger() *slog.Logger {
	if os.Getenv("SCOREBRIDGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (b *bundle) ticket(t testing.TB, id string) *scorebridge.Ticket {
	t.Helper()
	tk, err := b.tickets.FindTicketByID(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (b *bundle) actionState(t testing.TB, id string) scorebridge.State {
	t.Helper()
	r, err := b.recs.FindRecommendationByID(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.State
}

func (b *bundle) sync(t testing.TB) *scorebridge.SyncResult {
	t.Helper()
	res, err := b.svc.SyncConnection(b.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSyncFollowsStateToTicketCardAndAction(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		b := setupOn(t, db, tracking.Config{}, snowsim.Options{})
		inc := b.share(t, "ok", scorebridge.TicketIncident, true)
		drift := b.share(t, "drift", scorebridge.TicketIncident, false)
		chg := b.share(t, "chg", scorebridge.TicketChange, false)

		b.sync(t)
		if s := b.actionState(t, "ok"); s != scorebridge.StatePlanned {
			t.Fatalf("action of an open ticket is %q, want planned", s)
		}
		b.patch(t, "incident", inc.SysID, map[string]string{"state": "2", "work_notes": "Looking at it"})
		// Same second: a second update right after the first.
		b.patch(t, "incident", inc.SysID, map[string]string{"state": "6", "close_code": "Solved (Permanently)", "close_notes": "MFA on"})
		b.patch(t, "incident", drift.SysID, map[string]string{"state": "6", "close_code": "Solved (Permanently)", "close_notes": "done"})
		b.patch(t, "change_request", chg.SysID, map[string]string{"state": "4"})
		res := b.sync(t)
		if res.Applied < 3 {
			t.Fatalf("sync applied %d changes, want at least 3: %+v", res.Applied, res)
		}
		got := b.ticket(t, inc.ID)
		if got.State != "6" || got.StateName != "Resolved" {
			t.Fatalf("ticket state %q %q, want 6 Resolved", got.State, got.StateName)
		}
		if s := b.actionState(t, "ok"); s != scorebridge.StateCompleted {
			t.Fatalf("action of a resolved ticket with its control achieved is %q, want completed", s)
		}
		if s := b.actionState(t, "drift"); s != scorebridge.StatePlanned {
			t.Fatalf("action of a drifted ticket is %q, want it left planned", s)
		}
		if s := b.actionState(t, "chg"); s != scorebridge.StateToAddress {
			t.Fatalf("action of a canceled change is %q, want to_address", s)
		}
		sum, err := b.svc.Summary(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(sum[scorebridge.TicketIncident], "6"); n != 2 {
			t.Fatalf("incident card counts %d resolved, want 2: %+v", n, sum[scorebridge.TicketIncident])
		}
		if n := count(sum[scorebridge.TicketChange], "4"); n != 1 {
			t.Fatalf("change card counts %d canceled, want 1", n)
		}
		// Nothing new: the next sync changes nothing.
		if res := b.sync(t); res.Applied != 0 {
			t.Fatalf("a sync with nothing new applied %d changes", res.Applied)
		}
	})
}

// A problem is tracked like an incident: its best practice states are
// named, Resolved (106) finishes the work and moves the action after it.
func TestSyncFollowsProblem(t *testing.T) {
	b := setup(t, tracking.Config{})
	prb := b.share(t, "prb", scorebridge.TicketProblem, true)
	b.sync(t)
	if s := b.actionState(t, "prb"); s != scorebridge.StatePlanned {
		t.Fatalf("action of an open problem is %q, want planned", s)
	}
	b.patch(t, "problem", prb.SysID, map[string]string{"state": "104"})
	b.sync(t)
	if got := b.ticket(t, prb.ID); got.State != "104" || got.StateName != "Fix in Progress" {
		t.Fatalf("problem state %q %q, want 104 Fix in Progress", got.State, got.StateName)
	}
	b.patch(t, "problem", prb.SysID, map[string]string{"state": "106", "resolution_code": "fix_applied"})
	b.sync(t)
	if got := b.ticket(t, prb.ID); got.StateName != "Resolved" {
		t.Fatalf("problem state %q, want Resolved", got.StateName)
	}
	if s := b.actionState(t, "prb"); s != scorebridge.StateCompleted {
		t.Fatalf("action of a resolved problem with its control achieved is %q, want completed", s)
	}
	sum, err := b.svc.Summary(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(sum[scorebridge.TicketProblem], "106"); n != 1 {
		t.Fatalf("problem summary counts %d resolved, want 1: %+v", n, sum[scorebridge.TicketProblem])
	}
}

// An integration user with only itil and no time zone of its own cannot read
// the instance's default zone (sys_properties is admin-only), yet its
// session speaks that zone (America/Los_Angeles on a fresh instance).
// Reading the watermark as UTC would start the next sync eight hours late
// and miss the change.
func TestSyncAsITILUserWithoutZoneSeesChanges(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		b := setupOn(t, db, tracking.Config{}, snowsim.Options{})
		admin := servicenow.NewClient(b.url, &http.Client{Transport: &basicAuth{base: http.DefaultTransport}})
		users, _, err := admin.List(b.ctx, "sys_user", servicenow.ListOptions{Query: "user_name=" + snowsim.UserITIL, Fields: []string{"sys_id"}, Limit: 1})
		if err != nil || len(users) != 1 {
			t.Fatalf("find %s: %v %v", snowsim.UserITIL, users, err)
		}
		b.patch(t, "sys_user", users[0]["sys_id"], map[string]string{"time_zone": ""})
		b.inst.auth.user, b.inst.auth.password = snowsim.UserITIL, snowsim.DemoPassword

		inc := b.share(t, "tz", scorebridge.TicketIncident, true)
		b.sync(t)
		b.patch(t, "incident", inc.SysID, map[string]string{"state": "2"})
		if res := b.sync(t); res.Applied != 1 {
			t.Fatalf("the second sync applied %d changes, want 1: %+v", res.Applied, res)
		}
		if got := b.ticket(t, inc.ID); got.State != "2" {
			t.Fatalf("ticket state %q, want 2 (In Progress)", got.State)
		}
	})
}

func count(s *scorebridge.TicketTypeSummary, state string) int {
	for _, c := range s.ByState {
		if c.State == state {
			return c.Count
		}
	}
	return 0
}

func TestSyncRefusedTokenMidSyncLosesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		b := setupOn(t, db, tracking.Config{PageSize: 1}, snowsim.Options{})
		a := b.share(t, "a", scorebridge.TicketIncident, false)
		c := b.share(t, "c", scorebridge.TicketIncident, false)
		b.sync(t)
		b.patch(t, "incident", a.SysID, map[string]string{"state": "2"})
		b.patch(t, "incident", c.SysID, map[string]string{"state": "3"})
		// The second page of the next sync is refused.
		b.inst.auth.refuseFrom.Store(b.inst.auth.calls.Load() + 2)
		if _, err := b.svc.SyncConnection(b.ctx, ""); err == nil {
			t.Fatal("a sync whose token is refused mid-way reported success")
		}
		b.inst.auth.refuseFrom.Store(0)
		b.sync(t)
		if s := b.ticket(t, a.ID).State; s != "2" {
			t.Fatalf("first ticket state %q, want 2", s)
		}
		if s := b.ticket(t, c.ID).State; s != "3" {
			t.Fatalf("second ticket state %q after the refused sync, want 3", s)
		}
	})
}

func TestUnknownStateShowsAsSuch(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		b := setupOn(t, db, tracking.Config{}, snowsim.Options{})
		a := b.share(t, "a", scorebridge.TicketIncident, false)
		b.patch(t, "incident", a.SysID, map[string]string{"state": "42"})
		b.sync(t)
		if n := b.ticket(t, a.ID).StateName; n != "Unknown state (42)" {
			t.Fatalf("state name %q", n)
		}
	})
}

// signer is the business rule's signing step in front of the receiver: the
// simulator's notify feature posts each change to it, and it signs and
// forwards to the center's push endpoint, as the pasted script does.
func signer(t testing.TB, secret string, to http.Handler) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/push", bytes.NewReader(body))
		req.Header.Set(tracking.HeaderTimestamp, ts)
		req.Header.Set(tracking.HeaderSignature, tracking.Sign(secret, ts, body))
		to.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// receiver is the push endpoint as the web layer serves it.
func (b *bundle) receiver(applied chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := b.svc.ReceivePush(b.ctx, "c1", r.Header.Get(tracking.HeaderTimestamp), r.Header.Get(tracking.HeaderSignature), body)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		applied <- struct{}{}
	})
}

func TestPushReachesTicketAndAction(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		b := setupOn(t, db, tracking.Config{}, snowsim.Options{})
		inc := b.share(t, "ok", scorebridge.TicketIncident, true)
		secret, err := b.store.PushSecret(b.ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		applied := make(chan struct{}, 16)
		relay := signer(t, secret, b.receiver(applied))
		if err := b.sim.SetNotifyURL(relay.URL); err != nil {
			t.Fatal(err)
		}
		b.patch(t, "incident", inc.SysID, map[string]string{"state": "6", "close_code": "Solved (Permanently)", "close_notes": "fixed"})
		select {
		case <-applied:
		case <-time.After(10 * time.Second):
			t.Fatal("no push arrived")
		}
		if s := b.ticket(t, inc.ID).State; s != "6" {
			t.Fatalf("pushed state %q, want 6", s)
		}
		if s := b.actionState(t, "ok"); s != scorebridge.StateCompleted {
			t.Fatalf("action %q after push, want completed", s)
		}
	})
}

func TestPushRefusesUnsignedStaleReplayedAndNeverMovesBack(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		b := setupOn(t, db, tracking.Config{}, snowsim.Options{})
		inc := b.share(t, "a", scorebridge.TicketIncident, false)
		secret, err := b.store.PushSecret(b.ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		event := func(mod int, state string) []byte {
			body, _ := json.Marshal(tracking.PushEvent{Table: "incident", Operation: "update", SysID: inc.SysID, SysModCount: strconv.Itoa(mod),
				Record: map[string]string{"state": state, "sys_updated_on": "2026-12-01 10:00:00"}})
			return body
		}
		now := strconv.FormatInt(time.Now().Unix(), 10)
		body := event(5, "2")
		if err := b.svc.ReceivePush(b.ctx, "c1", "", "", body); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Fatalf("unsigned push: %v", err)
		}
		if err := b.svc.ReceivePush(b.ctx, "c1", now, tracking.Sign("wrong", now, body), body); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Fatalf("badly signed push: %v", err)
		}
		old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
		if err := b.svc.ReceivePush(b.ctx, "c1", old, tracking.Sign(secret, old, body), body); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			t.Fatalf("stale push: %v", err)
		}
		sig := tracking.Sign(secret, now, body)
		if err := b.svc.ReceivePush(b.ctx, "c1", now, sig, body); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.ReceivePush(b.ctx, "c1", now, sig, body); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
			t.Fatalf("replayed push: %v", err)
		}
		// An older event arriving late, and a duplicate of the current one.
		for _, late := range [][]byte{event(3, "1"), event(5, "1")} {
			if err := b.svc.ReceivePush(b.ctx, "c1", now, tracking.Sign(secret, now, late), late); err != nil {
				t.Fatal(err)
			}
		}
		if s := b.ticket(t, inc.ID).State; s != "2" {
			t.Fatalf("out-of-order push moved the ticket to %q, want 2", s)
		}
	})
}

// The integration user (itil) may not read sys_audit_delete, as on a real
// instance: a record deleted there is found by checking the records no
// sync has seen lately, by sys_id.
func TestDeletedRecordFoundWithoutAuditDelete(t *testing.T) {
	forEachDB(t, func(t *testing.T, db backend) {
		// The clock is two hours ahead: every record is due a check.
		b := setupOn(t, db, tracking.Config{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}, snowsim.Options{})
		b.inst.auth.user, b.inst.auth.password = snowsim.UserITIL, snowsim.DemoPassword
		gone := b.share(t, "gone", scorebridge.TicketIncident, false)
		kept := b.share(t, "kept", scorebridge.TicketChange, false)
		b.sync(t)
		if s := b.actionState(t, "gone"); s != scorebridge.StatePlanned {
			t.Fatalf("action of an open ticket is %q", s)
		}
		admin := servicenow.NewClient(b.url, &http.Client{Transport: &basicAuth{base: http.DefaultTransport}})
		if err := admin.Delete(b.ctx, "incident", gone.SysID); err != nil {
			t.Fatal(err)
		}
		res := b.sync(t)
		if res.Deleted != 1 {
			t.Fatalf("sync found %d deletions, want 1: %+v", res.Deleted, res)
		}
		if got := b.ticket(t, gone.ID); got.StateName != scorebridge.DeletedStateName {
			t.Fatalf("deleted ticket shows %q, want %q", got.StateName, scorebridge.DeletedStateName)
		}
		if got := b.ticket(t, kept.ID); got.StateName == scorebridge.DeletedStateName {
			t.Fatal("a record still on the instance was marked deleted")
		}
		if s := b.actionState(t, "gone"); s != scorebridge.StateToAddress {
			t.Fatalf("action of a deleted ticket is %q, want to_address", s)
		}
		if res := b.sync(t); res.Deleted != 0 {
			t.Fatalf("a deletion was found twice: %+v", res)
		}
	})
}
