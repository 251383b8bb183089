package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// sentTicket stores a ticket sent as record sysID in state, on connection.
func sentTicket(t *testing.T, s *sqlstore.TicketStore, id, connection string, typ scorebridge.TicketType, sysID, state string) {
	t.Helper()
	ctx := context.Background()
	tk := testTicket(id, "rec-"+id)
	tk.Type, tk.ConnectionID = typ, connection
	if err := s.InsertTickets(ctx, []*scorebridge.Ticket{tk}, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkTicketSent(ctx, id, sqlstore.TicketResult{Number: "N" + id, SysID: sysID, State: state, StateName: "stored"}, nil); err != nil {
		t.Fatal(err)
	}
}

func trackingStore(t testing.TB, db *sqlstore.DB) *sqlstore.TrackingStore {
	t.Helper()
	key, _ := secret.ParseKey(secret.NewKey())
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return sqlstore.NewTrackingStore(db, box)
}

// TestStateNames_RenameOverInstanceOverBuiltin: every place that reads a
// ticket (by id, a list, the cards) names its state with the admin's
// rename, else the instance's label, else a fresh instance's; a value none
// names shows as unknown and still counts.
func TestStateNames_RenameOverInstanceOverBuiltin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "ana", Name: "ana", Role: scorebridge.RoleAdmin})
		conns, db, _ := newConnectionStore(t, b)
		mustCreateConnection(t, conns, "c1", "https://a.service-now.com") // the default
		ts := sqlstore.NewTicketStore(db)
		st := trackingStore(t, db)

		sentTicket(t, ts, "t-renamed", "", scorebridge.TicketIncident, "s1", "2")
		sentTicket(t, ts, "t-labelled", "c1", scorebridge.TicketIncident, "s2", "3")
		sentTicket(t, ts, "t-builtin", "c1", scorebridge.TicketIncident, "s3", "6")
		sentTicket(t, ts, "t-unknown", "c1", scorebridge.TicketIncident, "s4", "42")
		sentTicket(t, ts, "t-change", "c1", scorebridge.TicketChange, "s5", "-1")

		at := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
		if err := st.StoreStateLabels(ctx, "c1", []scorebridge.StateLabel{
			{Table: "incident", Value: "2", Label: "Working", Sequence: 200},
			{Table: "incident", Value: "3", Label: "Awaiting caller", Sequence: 300},
			{Table: "change_request", Value: "-1", Label: "Implementing", Sequence: 500},
		}, at); err != nil {
			t.Fatal(err)
		}
		if err := st.RenameStates(ctx, "c1", []scorebridge.StateRename{{Table: "incident", Value: "2", Name: "Being fixed"}}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"t-renamed": "Being fixed", "t-labelled": "Awaiting caller", "t-builtin": "Resolved",
			"t-unknown": "Unknown state (42)", "t-change": "Implementing"}
		for id, name := range want {
			got, err := ts.FindTicketByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.StateName != name {
				t.Errorf("ticket %s shows state %q, want %q", id, got.StateName, name)
			}
		}
		list, _, err := ts.FindTicketPage(ctx, scorebridge.TicketFilter{Type: scorebridge.TicketIncident})
		if err != nil || len(list) != 4 {
			t.Fatalf("incident list: %d, %v", len(list), err)
		}
		for _, tk := range list {
			if tk.StateName != want[tk.ID] {
				t.Errorf("list shows %s in %q, want %q", tk.ID, tk.StateName, want[tk.ID])
			}
		}
		sum, err := st.Summary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inc := sum[scorebridge.TicketIncident]
		if inc.Total != 4 || len(inc.ByState) != 4 {
			t.Fatalf("incident card %+v", inc)
		}
		names := map[string]string{}
		for _, c := range inc.ByState {
			names[c.State] = c.StateName
		}
		if names["2"] != "Being fixed" || names["42"] != "Unknown state (42)" || names["3"] != "Awaiting caller" {
			t.Errorf("card names %v", names)
		}
		if len(inc.Latest) != 4 || sum[scorebridge.TicketChange].Latest[0].StateName != "Implementing" {
			t.Errorf("card latest: %d incidents, change %+v", len(inc.Latest), sum[scorebridge.TicketChange].Latest)
		}

		// The names as the configuration page reads them.
		n, err := st.StateNames(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if !n.RefreshedAt.Equal(at) || n.Renames["incident"]["2"] != "Being fixed" || n.Labels["incident"]["2"].Label != "Working" {
			t.Fatalf("state names %+v", n)
		}

		// A refresh keeps the renames, even of a value the instance no
		// longer lists, and drops labels it no longer has.
		if err := st.StoreStateLabels(ctx, "c1", []scorebridge.StateLabel{{Table: "incident", Value: "3", Label: "Pending"}}, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, _ = st.StateNames(ctx, "c1")
		if n.Renames["incident"]["2"] != "Being fixed" || n.Labels["incident"]["2"].Label != "" || n.Labels["incident"]["3"].Label != "Pending" {
			t.Fatalf("after a refresh: %+v", n)
		}

		// Renames are replaced whole and audited with what changed.
		if err := st.RenameStates(ctx, "c1", []scorebridge.StateRename{{Table: "incident", Value: "6", Name: "Fixed"}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := ts.FindTicketByID(ctx, "t-renamed"); got.StateName != "In Progress" {
			t.Errorf("after clearing its rename, state 2 shows %q, want the built-in In Progress", got.StateName)
		}
		if got, _ := ts.FindTicketByID(ctx, "t-builtin"); got.StateName != "Fixed" {
			t.Errorf("renamed state 6 shows %q", got.StateName)
		}
		events, _, err := sqlstore.NewAuditStore(db).FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditStateNames})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[0].Actor != "ana" || events[0].Target != "c1" {
			t.Fatalf("audit of renames: %+v", events)
		}
		// Saving the same renames again changes nothing and audits nothing.
		if err := st.RenameStates(ctx, "c1", []scorebridge.StateRename{{Table: "incident", Value: "6", Name: "Fixed"}}); err != nil {
			t.Fatal(err)
		}
		if n, _ := sqlstore.NewAuditStore(db).CountAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditStateNames}); n != 2 {
			t.Errorf("an unchanged save wrote audit events: %d", n)
		}
	})
}
