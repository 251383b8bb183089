package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func testTicket(id string, recs ...string) *scorebridge.Ticket {
	return &scorebridge.Ticket{
		ID:                id,
		RecommendationIDs: recs,
		Type:              scorebridge.TicketChange,
		Name:              "Turn on MFA for admins",
		Description:       "Admins sign in without MFA.",
		Priority:          2,
		DueDate:           "2026-12-31",
		Actions:           []scorebridge.TicketAction{{ID: recs[0], Title: "MFA", Source: scorebridge.SourceMicrosoft, Category: scorebridge.CategoryIdentity, Remediation: "Do it"}},
		RequestedBy:       "u-1",
	}
}

// enqueueCheck asserts the callback runs inside the dialect's transaction
// type and records the ids it was given.
func enqueueCheck(t *testing.T, dialect string, got *[]string) sqlstore.EnqueueFunc {
	return func(ctx context.Context, tx sqlstore.TicketTx, ids []string) error {
		if dialect == sqlstore.DialectPostgres && tx.PGX == nil || dialect == sqlstore.DialectSQLite && tx.SQL == nil {
			t.Errorf("enqueue got %+v, want the %s transaction", tx, dialect)
		}
		*got = append(*got, ids...)
		return nil
	}
}

func TestTicket_InsertFindAndStates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, clock := openTest(t, b)
		s := sqlstore.NewTicketStore(db)

		var queued []string
		grouped := testTicket("t-grouped", "rec-b", "rec-a")
		single := testTicket("t-single", "rec-a")
		if err := s.InsertTickets(ctx, []*scorebridge.Ticket{grouped}, enqueueCheck(t, b.name, &queued)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		if err := s.InsertTickets(ctx, []*scorebridge.Ticket{single}, enqueueCheck(t, b.name, &queued)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(queued, []string{"t-grouped", "t-single"}) {
			t.Errorf("enqueued %v", queued)
		}

		got, err := s.FindTicketByID(ctx, "t-grouped")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != scorebridge.TicketQueued || !reflect.DeepEqual(got.RecommendationIDs, []string{"rec-b", "rec-a"}) ||
			got.Name != grouped.Name || got.Priority != 2 || got.DueDate != "2026-12-31" || got.RequestedBy != "u-1" ||
			!reflect.DeepEqual(got.Actions, grouped.Actions) || !got.CreatedAt.Equal(grouped.CreatedAt) || got.SentAt != nil {
			t.Errorf("read back %+v, want %+v", got, grouped)
		}

		list, err := s.FindTickets(ctx, scorebridge.TicketFilter{RecommendationID: "rec-a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != "t-single" || list[1].ID != "t-grouped" {
			t.Errorf("tickets of rec-a: %v, want newest first", ticketIDs(list))
		}
		if list, _ := s.FindTickets(ctx, scorebridge.TicketFilter{RecommendationID: "rec-b"}); len(list) != 1 || list[0].ID != "t-grouped" {
			t.Errorf("tickets of rec-b: %v", ticketIDs(list))
		}

		clock.Advance(time.Second)
		if err := s.MarkTicketSent(ctx, "t-single", sqlstore.TicketResult{Number: "CHG0030001", SysID: "abc", URL: "https://x/nav_to.do", State: "-5", StateName: "New"}, nil); err != nil {
			t.Fatal(err)
		}
		got, _ = s.FindTicketByID(ctx, "t-single")
		if got.Status != scorebridge.TicketSent || got.Number != "CHG0030001" || got.SysID != "abc" || got.StateName != "New" || got.SentAt == nil || !got.SentAt.Equal(clock.Now().Truncate(time.Microsecond)) {
			t.Errorf("sent ticket %+v", got)
		}
		// A sent ticket never turns failed.
		if err := s.MarkTicketFailed(ctx, "t-single", "late failure"); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.FindTicketByID(ctx, "t-single"); got.Status != scorebridge.TicketSent {
			t.Errorf("sent ticket became %s", got.Status)
		}
		if sent, _ := s.FindTickets(ctx, scorebridge.TicketFilter{Status: scorebridge.TicketSent}); len(sent) != 1 {
			t.Errorf("sent filter: %v", ticketIDs(sent))
		}

		// Waiting reasons show on queued tickets only.
		if err := s.SetTicketWaiting(ctx, "t-grouped", "waiting for authorization"); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.FindTicketByID(ctx, "t-grouped"); got.Error != "waiting for authorization" || got.Status != scorebridge.TicketQueued {
			t.Errorf("waiting ticket %+v", got)
		}

		// Retry: only a failed ticket, and its job is queued with it.
		queued = nil
		if err := s.RequeueTicket(ctx, "t-grouped", enqueueCheck(t, b.name, &queued)); scorebridge.ErrorCode(err) != scorebridge.ECONFLICT {
			t.Errorf("requeue of a queued ticket: %v, want ECONFLICT", err)
		}
		if err := s.RequeueTicket(ctx, "nope", enqueueCheck(t, b.name, &queued)); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("requeue of a missing ticket: %v, want ENOTFOUND", err)
		}
		if err := s.MarkTicketFailed(ctx, "t-grouped", "ServiceNow refused it"); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.FindTicketByID(ctx, "t-grouped"); got.Status != scorebridge.TicketFailed || got.Error != "ServiceNow refused it" {
			t.Errorf("failed ticket %+v", got)
		}
		if err := s.RequeueTicket(ctx, "t-grouped", enqueueCheck(t, b.name, &queued)); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.FindTicketByID(ctx, "t-grouped"); got.Status != scorebridge.TicketQueued || got.Error != "" || len(queued) != 1 {
			t.Errorf("requeued ticket %+v, jobs %v", got, queued)
		}
		if _, err := s.FindTicketByID(ctx, "missing"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("missing ticket: %v", err)
		}
	})
}

func TestTicket_EnqueueFailureWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, _ := openTest(t, b)
		s := sqlstore.NewTicketStore(db)
		boom := errors.New("queue unavailable")
		err := s.InsertTickets(ctx, []*scorebridge.Ticket{testTicket("t1", "rec-a"), testTicket("t2", "rec-a")},
			func(context.Context, sqlstore.TicketTx, []string) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("insert: %v, want the enqueue error", err)
		}
		if list, err := s.FindTickets(ctx, scorebridge.TicketFilter{}); err != nil || len(list) != 0 {
			t.Errorf("tickets after a failed enqueue: %v, %v", ticketIDs(list), err)
		}
		// A duplicate id in one batch rolls the whole batch back too.
		var queued []string
		err = s.InsertTickets(ctx, []*scorebridge.Ticket{testTicket("t1", "rec-a"), testTicket("t1", "rec-b")}, enqueueCheck(t, b.name, &queued))
		if err == nil {
			t.Fatal("duplicate ticket id accepted")
		}
		if list, _ := s.FindTickets(ctx, scorebridge.TicketFilter{}); len(list) != 0 || len(queued) != 0 {
			t.Errorf("half-written batch: %v, jobs %v", ticketIDs(list), queued)
		}
	})
}

func TestTicket_Audit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, clock := openTest(t, b)
		s := sqlstore.NewTicketStore(db)
		var queued []string
		if err := s.InsertTickets(ctx, []*scorebridge.Ticket{testTicket("t1", "rec-a"), testTicket("t2", "rec-a")}, enqueueCheck(t, b.name, &queued)); err != nil {
			t.Fatal(err)
		}
		if tried, err := s.CreateMayExist(ctx, "t1"); err != nil || tried {
			t.Errorf("CreateMayExist before any request = %v, %v", tried, err)
		}
		lookup := &scorebridge.TicketAuditEntry{TicketID: "t1", Kind: "request", Method: "GET", Path: "/api/now/table/change_request?sysparm_query=correlation_id%3Dt1"}
		if err := s.AddTicketAudit(ctx, lookup); err != nil {
			t.Fatal(err)
		}
		if tried, _ := s.CreateMayExist(ctx, "t1"); tried {
			t.Error("a lookup counted as a create")
		}
		clock.Advance(time.Second)
		post := &scorebridge.TicketAuditEntry{TicketID: "t1", Kind: "request", Method: "POST", Path: "/api/now/table/change_request", Body: `{"short_description":"x"}`}
		answer := &scorebridge.TicketAuditEntry{TicketID: "t1", Kind: "response", Method: "POST", Path: "/api/now/table/change_request", StatusCode: 201, Body: `{"result":{"number":"CHG0030001"}}`}
		for _, e := range []*scorebridge.TicketAuditEntry{post, answer} {
			if err := s.AddTicketAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if tried, _ := s.CreateMayExist(ctx, "t1"); !tried {
			t.Error("CreateMayExist after a POST = false")
		}
		// A create refused outright (429, 403) made nothing; one without an
		// answer or with a 5xx may have.
		for _, e := range []*scorebridge.TicketAuditEntry{
			{TicketID: "t2", Kind: "request", Method: "POST"},
			{TicketID: "t2", Kind: "error", Method: "POST", StatusCode: 429},
		} {
			if err := s.AddTicketAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if tried, _ := s.CreateMayExist(ctx, "t2"); tried {
			t.Error("CreateMayExist after a 429 = true")
		}
		for _, e := range []*scorebridge.TicketAuditEntry{
			{TicketID: "t2", Kind: "request", Method: "POST"},
			{TicketID: "t2", Kind: "error", Method: "POST", StatusCode: 502},
		} {
			if err := s.AddTicketAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if tried, _ := s.CreateMayExist(ctx, "t2"); !tried {
			t.Error("CreateMayExist after a 502 = false")
		}
		got, err := s.FindTicketAudit(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[1].Body != post.Body || got[2].StatusCode != 201 || got[2].Body != answer.Body || !got[1].At.Equal(post.At) || got[0].Method != "GET" {
			t.Errorf("audit %+v", got)
		}
		if _, err := s.FindTicketAudit(ctx, "nope"); scorebridge.ErrorCode(err) != scorebridge.ENOTFOUND {
			t.Errorf("audit of a missing ticket: %v", err)
		}
	})
}

func ticketIDs(ts []*scorebridge.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}
