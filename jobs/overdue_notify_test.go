package jobs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/notify"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestOverdue_OneNotificationPerCheck(t *testing.T) {
	t.Parallel()
	testOverdueNotification(t, "")
}

func TestOverdue_OneNotificationPerCheckPostgres(t *testing.T) {
	dsn := dbtest.PostgresURL()
	if dsn == "" {
		t.Skip("SCOREBRIDGE_TEST_POSTGRES is not set")
	}
	t.Parallel()
	testOverdueNotification(t, dbtest.PostgresSchema(t, dsn, "jobs_overdue_notify"))
}

// Three tickets go past their due date in one check: the webhook target
// hears of it once, one message naming the three.
func testOverdueNotification(t *testing.T, dsn string) {
	bodies := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		bodies <- body
	}))
	t.Cleanup(hook.Close)

	// The center's clock moves on to make tickets overdue; the notifier keeps
	// real time, which River schedules deliveries by.
	clock := clocktest.New(time.Now().UTC())
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc := &notify.Service{Webhook: &notify.WebhookSender{HTTPClient: posture.NewHTTPClient(true)}, AllowPrivate: true}
	b := setup(t, setupOpts{dsn: dsn, config: func(c *jobs.Config) {
		c.SLA, c.Now = sqlstore.NewSLAStore(c.DB), clock.Now
		svc.Store = sqlstore.NewNotificationStore(c.DB, box)
		c.Notifications, c.Notifier = svc, svc
		c.MaxBackoff = 20 * time.Millisecond
	}})
	svc.Queue = b.runner
	tg := &scorebridge.NotificationTarget{Name: "SecOps hook", Channel: scorebridge.ChannelWebhook, Enabled: true, Digest: scorebridge.DigestImmediate}
	if _, err := svc.CreateTarget(b.ctx, tg, scorebridge.NotificationSecrets{WebhookURL: hook.URL + "/hook", WebhookSecret: "hook-signing-secret"}); err != nil {
		t.Fatal(err)
	}

	var reqs []*scorebridge.TicketRequest
	for i := 0; i < 3; i++ {
		reqs = append(reqs, &scorebridge.TicketRequest{RecommendationIDs: []string{"bitlocker"}, Type: scorebridge.TicketIncident, Name: "BitLocker", Priority: 1})
	}
	ts, err := b.tickets.CreateTickets(b.ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		b.waitTicket(t, tk.ID, nil)
	}
	events, stop := b.runner.Subscribe(river.EventKindJobCompleted)
	defer stop()
	// P1 is due in 7 days: eight days on, all three are past due.
	clock.Advance(8 * 24 * time.Hour)
	found, err := b.runner.CheckOverdue(b.ctx)
	if err != nil || len(found) != 3 {
		t.Fatalf("overdue: %v %v, want the three tickets", found, err)
	}
	var body []byte
	select {
	case body = <-bodies:
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook delivery within 30s")
	}
	waitDeliveryDone(t, events)
	if again, err := b.runner.CheckOverdue(b.ctx); err != nil || len(again) != 0 {
		t.Fatalf("a second check found %v (%v)", again, err)
	}
	select {
	case extra := <-bodies:
		t.Fatalf("a second message for the same overdue tickets: %s", extra)
	default:
	}
	var msg struct {
		Notifications []struct {
			Kind, Cause, Subject, Details string
		} `json:"notifications"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if len(msg.Notifications) != 1 {
		t.Fatalf("body = %s, want one notification", body)
	}
	n := msg.Notifications[0]
	if n.Kind != string(scorebridge.NotifyTicketOverdue) || n.Cause != "sla:overdue" || !strings.Contains(n.Subject, "3 ticket(s)") {
		t.Errorf("notification %+v", n)
	}
	for _, tk := range ts {
		sent, _ := b.tickets.FindTicketByID(b.ctx, tk.ID)
		if !strings.Contains(n.Details, sent.Number) {
			t.Errorf("details %q do not name %s", n.Details, sent.Number)
		}
	}
}

// waitDeliveryDone waits until River reports a notification delivery
// completed.
func waitDeliveryDone(t *testing.T, events <-chan *river.Event) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Job.Kind == (jobs.DeliverNotificationArgs{}).Kind() {
				return
			}
		case <-timeout:
			t.Fatal("no delivery completed within 30s")
		}
	}
}
