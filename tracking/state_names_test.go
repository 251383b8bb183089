package tracking_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// shareOn stores a sent incident of connection c1 (the connection the test
// instances answer for) with its record made on the simulator.
func (b *bundle) shareOn(t testing.TB, id string) *scorebridge.Ticket {
	t.Helper()
	tk := &scorebridge.Ticket{ID: "t-" + id, RecommendationIDs: []string{id}, Type: scorebridge.TicketIncident, ConnectionID: "c1", Name: "Fix " + id, Priority: 3, RequestedBy: "alice"}
	if err := b.tickets.InsertTickets(b.ctx, []*scorebridge.Ticket{tk}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rec, err := b.sim.Insert("incident", servicenow.TicketFields(tk, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.tickets.MarkTicketSent(b.ctx, tk.ID, sqlstore.TicketResult{Number: rec["number"], SysID: rec["sys_id"], State: rec["state"], StateName: "New"}, nil); err != nil {
		t.Fatal(err)
	}
	tk.SysID = rec["sys_id"]
	return tk
}

func stateName(s *scorebridge.TicketTypeSummary, state string) string {
	for _, c := range s.ByState {
		if c.State == state {
			return c.StateName
		}
	}
	return ""
}

// TestStateNamesFromTheInstanceAndRenames customises the instance's
// incident state list as its admin would (a relabelled state and a state
// of its own), reads it into the center, moves tickets through those
// states on the instance and checks the ticket and its card show the
// instance's labels, then the admin's renames, and an unknown value as
// such, counted all the same.
func TestStateNamesFromTheInstanceAndRenames(t *testing.T) {
	b := setup(t, tracking.Config{})
	admin := servicenow.NewClient(b.url, &http.Client{Transport: &basicAuth{base: http.DefaultTransport}})
	choices, _, err := admin.List(b.ctx, "sys_choice", servicenow.ListOptions{Query: "name=incident^element=state^value=2", Fields: []string{"sys_id"}, Limit: 1})
	if err != nil || len(choices) != 1 {
		t.Fatalf("find incident state 2 on the instance: %v %v", choices, err)
	}
	b.patch(t, "sys_choice", choices[0]["sys_id"], map[string]string{"label": "Working on it"})
	if _, err := admin.Create(b.ctx, "sys_choice", map[string]string{"name": "incident", "element": "state", "value": "9", "label": "Awaiting vendor", "sequence": "350"}); err != nil {
		t.Fatal(err)
	}

	names, err := b.svc.RefreshStateNames(b.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names.Name(scorebridge.TicketIncident, "2"); got != "Working on it" {
		t.Fatalf("after a refresh incident state 2 is named %q, want the instance's Working on it", got)
	}
	if got := names.Name(scorebridge.TicketChange, "-4"); got != "Assess" {
		t.Fatalf("change state -4 is named %q, want the instance's Assess", got)
	}

	a := b.shareOn(t, "a")
	c := b.shareOn(t, "c")
	u := b.shareOn(t, "u")
	b.sync(t)
	sum, err := b.svc.Summary(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(sum[scorebridge.TicketIncident], "1"); n != 3 {
		t.Fatalf("before the changes the card counts %d new incidents, want 3: %+v", n, sum[scorebridge.TicketIncident])
	}

	b.patch(t, "incident", a.SysID, map[string]string{"state": "2"})
	b.patch(t, "incident", c.SysID, map[string]string{"state": "9"})
	b.patch(t, "incident", u.SysID, map[string]string{"state": "42"})
	if res := b.sync(t); res.Applied != 3 {
		t.Fatalf("sync applied %d changes, want 3", res.Applied)
	}
	for id, want := range map[string]string{a.ID: "Working on it", c.ID: "Awaiting vendor", u.ID: "Unknown state (42)"} {
		if got := b.ticket(t, id).StateName; got != want {
			t.Errorf("ticket %s shows %q, want %q", id, got, want)
		}
	}
	sum, err = b.svc.Summary(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	inc := sum[scorebridge.TicketIncident]
	if count(inc, "1") != 0 || count(inc, "2") != 1 || count(inc, "9") != 1 || count(inc, "42") != 1 || inc.Total != 3 {
		t.Fatalf("after the sync the card counts %+v", inc)
	}
	if n := stateName(inc, "42"); n != "Unknown state (42)" {
		t.Fatalf("the card names the unknown state %q", n)
	}

	// The admin's rename wins over the instance's label, everywhere.
	if _, err := b.svc.RenameStates(b.ctx, "c1", []scorebridge.StateRename{{Table: "incident", Value: "2", Name: "Being fixed"}}); err != nil {
		t.Fatal(err)
	}
	if got := b.ticket(t, a.ID).StateName; got != "Being fixed" {
		t.Fatalf("renamed state shows %q on the ticket", got)
	}
	sum, _ = b.svc.Summary(b.ctx)
	if n := stateName(sum[scorebridge.TicketIncident], "2"); n != "Being fixed" {
		t.Fatalf("renamed state shows %q on the card", n)
	}

	// A change after the rename stores the center's name in the ticket's
	// history too.
	b.patch(t, "incident", c.SysID, map[string]string{"state": "2"})
	b.sync(t)
	hist, err := b.store.FindTicketHistory(b.ctx, c.ID)
	if err != nil || len(hist) == 0 || hist[len(hist)-1].StateName != "Being fixed" {
		t.Fatalf("history of %s: %+v, %v; want the last change named Being fixed", c.ID, hist, err)
	}

	// Bad renames are refused whole, naming the field.
	for _, bad := range [][]scorebridge.StateRename{
		{{Table: "sc_task", Value: "2", Name: "x"}},
		{{Table: "incident", Value: "two", Name: "x"}},
		{{Table: "incident", Value: "2", Name: "  "}},
		{{Table: "incident", Value: "2", Name: "Ok"}, {Table: "incident", Value: "2", Name: "Twice"}},
	} {
		if _, err := b.svc.RenameStates(b.ctx, "c1", bad); scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) == "" {
			t.Errorf("rename %+v: err %v, want EINVALID naming the field", bad, err)
		}
	}
	if got := b.ticket(t, a.ID).StateName; got != "Being fixed" {
		t.Fatalf("a refused rename changed the name to %q", got)
	}
}
