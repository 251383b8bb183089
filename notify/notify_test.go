package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for test schemas

	"github.com/riverqueue/river"
	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/notify"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// testClock is the settable clock of a bundle.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// bundle is one test's world: a real database, the notification service
// with real senders, and (with jobs) a running River runner.
type bundle struct {
	db     *sqlstore.DB
	box    *secret.Box
	store  *sqlstore.NotificationStore
	svc    *notify.Service
	runner *jobs.Runner
	clock  *testClock
	smtp   *smtpServer
	ctx    context.Context
}

// noInstances is the domain-interface stand-in for ServiceNow: these
// tests send no tickets.
type noInstances struct{}

func (noInstances) ConnectedInstance(context.Context, string) (*scorebridge.ConnectedInstance, error) {
	return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "no instance")
}

func forEachDB(t *testing.T, withJobs bool, f func(t *testing.T, b *bundle)) {
	t.Parallel()
	dsns := map[string]string{sqlstore.DialectSQLite: ""}
	if base := dbtest.PostgresURL(); base != "" {
		dsns[sqlstore.DialectPostgres] = base
	}
	for name, base := range dsns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := filepath.Join(t.TempDir(), "scorebridge.db")
			if base != "" {
				dsn = dbtest.PostgresSchema(t, base, "notify")
			}
			db, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			c := &testClock{now: time.Now().UTC()}
			db.Now = c.Now
			box, err := secret.NewBox(bytes.Repeat([]byte{9}, 32))
			if err != nil {
				t.Fatal(err)
			}
			smtp := startSMTP(t, "mailer", "smtp-pa55word")
			store := sqlstore.NewNotificationStore(db, box)
			b := &bundle{db: db, box: box, store: store, clock: c, smtp: smtp, ctx: scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "ana", Name: "ana", Role: scorebridge.RoleAdmin})}
			b.svc = &notify.Service{
				Store:        store,
				Email:        &notify.SMTPSender{AllowPrivate: true, RootCAs: smtp.roots},
				Webhook:      &notify.WebhookSender{HTTPClient: posture.NewHTTPClient(true)},
				AllowPrivate: true,
				Now:          c.Now,
			}
			if withJobs {
				ctx, cancel := context.WithCancel(context.Background())
				r, err := jobs.New(ctx, jobs.Config{
					DB: db, Instances: noInstances{}, Recommendations: sqlstore.NewRecommendationService(db),
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Notifications: b.svc, Notifier: b.svc,
					MaxBackoff: 20 * time.Millisecond,
				})
				if err != nil {
					t.Fatal(err)
				}
				b.svc.Queue = r
				b.runner = r
				if err := r.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					cancel()
					stop, done := context.WithTimeout(context.Background(), 10*time.Second)
					defer done()
					r.Stop(stop)
				})
			}
			f(t, b)
		})
	}
}

// receiver is a webhook endpoint that checks every signature and answers
// with the statuses given, then 200.
type receiver struct {
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	got      chan []byte
	bad      []string
}

func newReceiver(t *testing.T, secret string, statuses ...int) *receiver {
	rc := &receiver{secret: secret, statuses: statuses, got: make(chan []byte, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get(notify.HeaderTimestamp)
		n, err := strconv.ParseInt(ts, 10, 64)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		want := notify.Sign(rc.secret, n, body)
		if err != nil || !hmac.Equal([]byte(want), []byte(r.Header.Get(notify.HeaderSignature))) || r.Header.Get("Content-Type") != "application/json" {
			rc.bad = append(rc.bad, r.Header.Get(notify.HeaderSignature))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if len(rc.statuses) > 0 {
			status := rc.statuses[0]
			rc.statuses = rc.statuses[1:]
			w.WriteHeader(status)
			io.WriteString(w, "receiver is down")
			return
		}
		rc.bodies = append(rc.bodies, body)
		rc.got <- body
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) delivered() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

// waitBody waits for the next body the receiver accepted.
func (rc *receiver) waitBody(t *testing.T) map[string]any {
	t.Helper()
	select {
	case body := <-rc.got:
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook delivery within 30s")
	}
	return nil
}

// waitJobsIdle waits until River reports a notification delivery finished
// and no delivery is left to run.
func waitDelivered(t *testing.T, b *bundle, events <-chan *river.Event) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Job.Kind == (jobs.DeliverNotificationArgs{}).Kind() && e.Kind == river.EventKindJobCompleted {
				return
			}
		case <-timeout:
			t.Fatal("no delivery completed within 30s")
		}
	}
}

func webhookTarget(t *testing.T, b *bundle, rc *receiver, digest scorebridge.DigestPeriod) *scorebridge.NotificationTarget {
	t.Helper()
	tg := &scorebridge.NotificationTarget{Name: "SecOps hook", Channel: scorebridge.ChannelWebhook, Enabled: true, Digest: digest}
	if _, err := b.svc.CreateTarget(b.ctx, tg, scorebridge.NotificationSecrets{WebhookURL: rc.srv.URL + "/hook?token=url-credential", WebhookSecret: rc.secret}); err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestBrokenConnectionIsOneMessage: a connection needs authorization and
// 50 tickets find it so, each as its job does (ConnectedInstance); the
// target hears of it once.
func TestBrokenConnectionIsOneMessage(t *testing.T) {
	forEachDB(t, true, func(t *testing.T, b *bundle) {
		rc := newReceiver(t, "hook-signing-secret")
		webhookTarget(t, b, rc, scorebridge.DigestImmediate)

		conns := sqlstore.NewConnectionStore(b.db, b.box)
		svc, err := connection.New(connection.Config{Store: conns, RedirectURL: "https://center.example/connections/callback", Notifier: b.svc, Now: b.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		c := &scorebridge.Connection{ID: "conn-1", InstanceURL: "https://acme.service-now.com", ClientID: "client"}
		if err := conns.CreateConnection(b.ctx, c, "client-secret", nil); err != nil {
			t.Fatal(err)
		}
		if err := conns.RecordFailure(b.ctx, c.ID, scorebridge.ConnectionAuthorizationRequired, connection.CauseRefreshRefused, "The instance refused the refresh token."); err != nil {
			t.Fatal(err)
		}
		events, stop := b.runner.Subscribe(river.EventKindJobCompleted)
		defer stop()
		for i := 0; i < 50; i++ {
			if _, err := svc.ConnectedInstance(b.ctx, c.ID); scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
				t.Fatalf("ticket %d: err = %v", i, err)
			}
		}
		body := rc.waitBody(t)
		waitDelivered(t, b, events)
		if n := rc.delivered(); n != 1 {
			t.Fatalf("%d messages for one broken connection", n)
		}
		items, _ := body["notifications"].([]any)
		if len(items) != 1 {
			t.Fatalf("body = %v", body)
		}
		it := items[0].(map[string]any)
		if it["kind"] != string(scorebridge.NotifyAuthorizationRequired) || it["cause"] != "connection:conn-1" || !strings.Contains(it["subject"].(string), "acme.service-now.com") {
			t.Errorf("item = %v", it)
		}
		links := it["links"].([]any)
		if len(links) != 1 || links[0].(map[string]any)["url"] != "https://center.example/connections/conn-1" {
			t.Errorf("links = %v", links)
		}
		// Every one of the 50 was counted in the one group.
		due, err := b.store.UnsentGroups(b.ctx, "", 0, time.Time{})
		if err != nil || len(due) != 0 {
			t.Errorf("unsent = %v, %v", due, err)
		}
		if len(rc.bad) != 0 {
			t.Errorf("badly signed deliveries: %v", rc.bad)
		}
	})
}

// TestFailingTargetRetried: the receiver fails twice; River retries with
// backoff, the failure is shown on the target meanwhile, and the third
// attempt delivers.
func TestFailingTargetRetried(t *testing.T) {
	forEachDB(t, true, func(t *testing.T, b *bundle) {
		rc := newReceiver(t, "s3cret", http.StatusBadGateway, http.StatusServiceUnavailable)
		tg := webhookTarget(t, b, rc, scorebridge.DigestImmediate)
		failed, stopFailed := b.runner.Subscribe(river.EventKindJobFailed)
		defer stopFailed()
		completed, stopCompleted := b.runner.Subscribe(river.EventKindJobCompleted)
		defer stopCompleted()
		if err := b.svc.Notify(b.ctx, scorebridge.Notification{Kind: scorebridge.NotifyImportFailed, Cause: "source:s1", Subject: "Contoso could not be read", Details: "Graph answered 503"}); err != nil {
			t.Fatal(err)
		}
		// The first failed attempt is kept on the target, with the answer.
		select {
		case <-failed:
		case <-time.After(30 * time.Second):
			t.Fatal("no failed attempt")
		}
		got, err := b.svc.FindTarget(b.ctx, tg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Failures < 1 || !strings.Contains(got.LastError, "502") && !strings.Contains(got.LastError, "503") || got.LastErrorAt == nil {
			t.Errorf("after a failure: %+v", got)
		}
		if strings.Contains(got.LastError, "url-credential") {
			t.Errorf("the error shows the URL's credential: %s", got.LastError)
		}
		body := rc.waitBody(t)
		if body["subject"] != "[scorebridge] Contoso could not be read" {
			t.Errorf("body = %v", body)
		}
		waitDelivered(t, b, completed)
		got, _ = b.svc.FindTarget(b.ctx, tg.ID)
		if got.Failures != 0 || got.LastSentAt == nil || got.Failing() {
			t.Errorf("after the delivery: %+v", got)
		}
	})
}

// TestTargetKeepsFailingIsShown: a target that fails delivery after
// delivery is marked failing with its last error.
func TestTargetKeepsFailingIsShown(t *testing.T) {
	forEachDB(t, false, func(t *testing.T, b *bundle) {
		rc := newReceiver(t, "s3cret", 500, 500, 500, 500)
		tg := webhookTarget(t, b, rc, scorebridge.DigestImmediate)
		for i := 0; i < scorebridge.FailingTargetThreshold; i++ {
			if err := b.svc.TestTarget(b.ctx, tg.ID); scorebridge.ErrorCode(err) != scorebridge.EUNAVAILABLE {
				t.Fatalf("test %d: %v", i, err)
			}
		}
		got, _ := b.svc.FindTarget(b.ctx, tg.ID)
		if !got.Failing() || !strings.Contains(got.LastError, "500") {
			t.Errorf("target = %+v", got)
		}
	})
}

// TestDigestGroupsByCause: an hourly target gathers an hour's events into
// one message, each cause once with its count; nothing goes before the
// hour is over.
func TestDigestGroupsByCause(t *testing.T) {
	forEachDB(t, false, func(t *testing.T, b *bundle) {
		rc := newReceiver(t, "digest-secret")
		tg := webhookTarget(t, b, rc, scorebridge.DigestHourly)
		b.clock.now = time.Date(2026, 12, 2, 9, 10, 0, 0, time.UTC)
		for i := 0; i < 5; i++ {
			if err := b.svc.Notify(b.ctx, scorebridge.Notification{Kind: scorebridge.NotifyTicketFailed, Cause: "ticket-failed:Mandatory field missing", Subject: "A ticket could not be created", At: b.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			b.clock.Advance(time.Minute)
		}
		if err := b.svc.Notify(b.ctx, scorebridge.Notification{Kind: scorebridge.NotifyControlRegressed, Cause: "source:s1", Subject: "2 controls regressed"}); err != nil {
			t.Fatal(err)
		}
		due, err := b.store.DueGroups(b.ctx, b.clock.Now())
		if err != nil || len(due) != 0 {
			t.Fatalf("due within the hour = %v, %v", due, err)
		}
		b.clock.Advance(time.Hour)
		due, err = b.store.DueGroups(b.ctx, b.clock.Now())
		if err != nil || len(due) != 2 {
			t.Fatalf("due after the hour = %v, %v", due, err)
		}
		if err := b.svc.Deliver(b.ctx, tg.ID, 0, due[0].PeriodStart); err != nil {
			t.Fatal(err)
		}
		body := rc.waitBody(t)
		items, _ := body["notifications"].([]any)
		if len(items) != 2 || body["digest"] != "hourly" || !strings.Contains(body["subject"].(string), "Hourly digest: 2 causes") {
			t.Fatalf("digest = %v", body)
		}
		first := items[0].(map[string]any)
		if first["kind"] != string(scorebridge.NotifyTicketFailed) || first["events"] != float64(5) {
			t.Errorf("first cause = %v", first)
		}
		// Sent once: delivering the period again sends nothing.
		if err := b.svc.Deliver(b.ctx, tg.ID, 0, due[0].PeriodStart); err != nil || rc.delivered() != 1 {
			t.Errorf("second delivery: %v, %d messages", err, rc.delivered())
		}
	})
}

// TestEmailOverSTARTTLS: a test message goes through the SMTP server after
// STARTTLS, with the sealed password, to every recipient.
func TestEmailOverSTARTTLS(t *testing.T) {
	forEachDB(t, false, func(t *testing.T, b *bundle) {
		host, port, _ := net.SplitHostPort(b.smtp.addr)
		p, _ := strconv.Atoi(port)
		tg := &scorebridge.NotificationTarget{Name: "SecOps mail", Channel: scorebridge.ChannelEmail, Enabled: true,
			SMTPHost: host, SMTPPort: p, SMTPUsername: "mailer", From: "scorebridge@example.org", To: []string{"secops@example.org", "Ana <ana@example.org>"}}
		if _, err := b.svc.CreateTarget(b.ctx, tg, scorebridge.NotificationSecrets{SMTPPassword: "smtp-pa55word"}); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.TestTarget(b.ctx, tg.ID); err != nil {
			t.Fatal(err)
		}
		m := <-b.smtp.mails
		if !m.startTLS || m.auth != "mailer:smtp-pa55word" || m.from != "scorebridge@example.org" || strings.Join(m.to, ",") != "secops@example.org,ana@example.org" {
			t.Errorf("mail = %+v", m)
		}
		if !strings.Contains(m.data, "Subject: [scorebridge] Test message for SecOps mail") || !strings.Contains(m.data, "Content-Type: text/plain; charset=utf-8") {
			t.Errorf("data = %s", m.data)
		}
		// A wrong password is refused by the server, and said so.
		tg.SMTPUsername = "mailer"
		if err := b.svc.UpdateTarget(b.ctx, tg, scorebridge.NotificationSecrets{SMTPPassword: "wrong"}); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.TestTarget(b.ctx, tg.ID); scorebridge.ErrorCode(err) != scorebridge.EUNAVAILABLE || !strings.Contains(err.Error(), "refused the SMTP credentials") {
			t.Errorf("wrong password: %v", err)
		}
	})
}

// TestSecretsSealed: no secret is in the database in clear, nor in what
// the service answers, nor in the audit log.
func TestSecretsSealed(t *testing.T) {
	forEachDB(t, false, func(t *testing.T, b *bundle) {
		rc := newReceiver(t, "")
		tg := &scorebridge.NotificationTarget{Name: "Slack", Channel: scorebridge.ChannelWebhook, Enabled: true, WebhookFormat: scorebridge.WebhookSlack}
		made, err := b.svc.CreateTarget(b.ctx, tg, scorebridge.NotificationSecrets{WebhookURL: rc.srv.URL + "/services/T000/B000/XXXXXXXX"})
		if err != nil {
			t.Fatal(err)
		}
		if len(made) < 40 {
			t.Fatalf("made signing secret %q", made)
		}
		rc.mu.Lock()
		rc.secret = made // what the admin gives the receiver
		rc.mu.Unlock()
		host, port, _ := net.SplitHostPort(b.smtp.addr)
		p, _ := strconv.Atoi(port)
		mailT := &scorebridge.NotificationTarget{Name: "Mail", Channel: scorebridge.ChannelEmail, Enabled: true, SMTPHost: host, SMTPPort: p,
			SMTPUsername: "mailer", From: "a@example.org", To: []string{"b@example.org"}}
		if _, err := b.svc.CreateTarget(b.ctx, mailT, scorebridge.NotificationSecrets{SMTPPassword: "smtp-pa55word"}); err != nil {
			t.Fatal(err)
		}
		var dump strings.Builder
		rows, err := b.db.SQL.Query(`SELECT smtp_password, webhook_url, webhook_secret, webhook_host FROM notification_targets`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, c, d, h string
			rows.Scan(&a, &c, &d, &h)
			dump.WriteString(a + c + d + h)
		}
		rows.Close()
		audit, _, _ := sqlstore.NewAuditStore(b.db).FindAuditEvents(b.ctx, scorebridge.AuditFilter{Action: scorebridge.AuditNotificationTarget})
		answer, _ := json.Marshal(audit)
		list, _ := b.svc.FindTargets(b.ctx)
		shown, _ := json.Marshal(list)
		for _, secret := range []string{"XXXXXXXX", made, "smtp-pa55word"} {
			for where, text := range map[string]string{"database": dump.String(), "audit log": string(answer), "answer": string(shown)} {
				if strings.Contains(text, secret) {
					t.Errorf("%q is in the %s in clear", secret, where)
				}
			}
		}
		if len(audit) != 2 || audit[0].Detail["change"] != "create" {
			t.Errorf("audit = %+v", audit)
		}
		if !strings.Contains(string(shown), `"webhookHost":"127.0.0.1:`) || !strings.Contains(string(shown), `"hasSmtpPassword":true`) {
			t.Errorf("targets = %s", shown)
		}
		// The Slack body is what Slack takes.
		if err := b.svc.TestTarget(b.ctx, tg.ID); err != nil {
			t.Fatal(err)
		}
		body := <-rc.got
		var slack map[string]any
		if err := json.Unmarshal(body, &slack); err != nil || len(slack) != 1 || !strings.HasPrefix(slack["text"].(string), "*Test message for Slack*") {
			t.Errorf("slack body = %s", body)
		}
	})
}

// TestTargetsRefused: bad settings say which field and why; the outbound
// guard refuses a private receiver unless private instances are allowed.
func TestTargetsRefused(t *testing.T) {
	forEachDB(t, false, func(t *testing.T, b *bundle) {
		guarded := &notify.Service{Store: b.store}
		for name, tc := range map[string]struct {
			t     scorebridge.NotificationTarget
			s     scorebridge.NotificationSecrets
			field string
		}{
			"loopback":     {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelWebhook}, scorebridge.NotificationSecrets{WebhookURL: "http://127.0.0.1:9/hook"}, "webhookUrl"},
			"metadata":     {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelWebhook}, scorebridge.NotificationSecrets{WebhookURL: "https://169.254.169.254/latest"}, "webhookUrl"},
			"plain http":   {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelWebhook}, scorebridge.NotificationSecrets{WebhookURL: "http://hooks.example.org/x"}, "webhookUrl"},
			"no url":       {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelWebhook}, scorebridge.NotificationSecrets{}, "webhookUrl"},
			"bad digest":   {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelWebhook, Digest: "weekly"}, scorebridge.NotificationSecrets{WebhookURL: "https://hooks.example.org/x"}, "digest"},
			"bad event":    {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelWebhook, Events: []scorebridge.NotificationKind{"ticket.sent"}}, scorebridge.NotificationSecrets{WebhookURL: "https://hooks.example.org/x"}, "events"},
			"no to":        {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelEmail, SMTPHost: "smtp.example.org", From: "a@example.org"}, scorebridge.NotificationSecrets{}, "to"},
			"private smtp": {scorebridge.NotificationTarget{Name: "x", Channel: scorebridge.ChannelEmail, SMTPHost: "10.0.0.5", From: "a@example.org", To: []string{"b@example.org"}}, scorebridge.NotificationSecrets{}, "smtpHost"},
		} {
			tg := tc.t
			if _, err := guarded.CreateTarget(b.ctx, &tg, tc.s); scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != tc.field {
				t.Errorf("%s: err = %v (field %q), want field %q", name, err, scorebridge.ErrorField(err), tc.field)
			}
		}
		if list, _ := b.svc.FindTargets(b.ctx); len(list) != 0 {
			t.Errorf("refused targets were stored: %d", len(list))
		}
	})
}
