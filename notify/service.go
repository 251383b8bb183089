package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Store is what the service needs of storage (sqlstore's
// NotificationStore): targets with their sealed secrets, each change with
// its audit event in the same transaction, and the groups.
type Store interface {
	CreateTarget(ctx context.Context, t *scorebridge.NotificationTarget, s scorebridge.NotificationSecrets, event *scorebridge.AuditEvent) error
	UpdateTarget(ctx context.Context, t *scorebridge.NotificationTarget, s scorebridge.NotificationSecrets, event *scorebridge.AuditEvent) error
	DeleteTarget(ctx context.Context, id string, event *scorebridge.AuditEvent) error
	FindTargets(ctx context.Context) ([]*scorebridge.NotificationTarget, error)
	FindTarget(ctx context.Context, id string) (*scorebridge.NotificationTarget, error)
	TargetSecrets(ctx context.Context, id string) (scorebridge.NotificationSecrets, error)
	RecordNotification(ctx context.Context, n scorebridge.Notification) ([]*scorebridge.NotificationGroup, error)
	UnsentGroups(ctx context.Context, targetID string, id int64, period time.Time) ([]*scorebridge.NotificationGroup, error)
	DueGroups(ctx context.Context, now time.Time) ([]*scorebridge.NotificationGroup, error)
	MarkSent(ctx context.Context, targetID string, ids []int64, at time.Time) error
	RecordFailure(ctx context.Context, targetID, message string, at time.Time) error
}

// Queue schedules deliveries (package jobs, on River): one job per
// immediate group (groupID) or per target and digest period (groupID 0),
// unique while it waits, so enqueuing twice delivers once.
type Queue interface {
	EnqueueNotification(ctx context.Context, targetID string, groupID int64, period, at time.Time) error
}

// Sender delivers one message to one target.
type Sender interface {
	Send(ctx context.Context, t *scorebridge.NotificationTarget, s scorebridge.NotificationSecrets, m Message) error
}

// Service records events, keeps the targets and delivers their messages.
// It is the center's scorebridge.Notifier.
type Service struct {
	Store Store
	// Queue is set once the job runner exists (it needs the service as
	// its deliverer); until then, and if enqueuing fails, the periodic
	// sweep delivers what is due.
	Queue   Queue
	Email   Sender
	Webhook Sender
	// AllowPrivate admits webhook URLs and mail servers on loopback and
	// private addresses (tests, a local relay).
	AllowPrivate bool
	Logger       *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

var (
	_ scorebridge.Notifier            = (*Service)(nil)
	_ scorebridge.NotificationService = (*Service)(nil)
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Notify records n for every target that hears it. The first event of a
// cause in a target's period schedules its delivery (at once, or at the
// end of the digest period); later ones only join the group.
func (s *Service) Notify(ctx context.Context, n scorebridge.Notification) error {
	if !n.Kind.Valid() {
		return fmt.Errorf("notify: unknown kind %q", n.Kind)
	}
	if strings.TrimSpace(n.Cause) == "" {
		return fmt.Errorf("notify: %s without a cause", n.Kind)
	}
	if n.At.IsZero() {
		n.At = s.now()
	}
	n.Subject = oneLine(n.Subject)
	made, err := s.Store.RecordNotification(ctx, n)
	if err != nil {
		return err
	}
	for _, g := range made {
		t, err := s.Store.FindTarget(ctx, g.TargetID)
		if err != nil {
			return err
		}
		s.enqueue(ctx, t, g)
	}
	return nil
}

// enqueue schedules a group's delivery; a failure is logged, and the sweep
// delivers it later.
func (s *Service) enqueue(ctx context.Context, t *scorebridge.NotificationTarget, g *scorebridge.NotificationGroup) {
	if s.Queue == nil {
		return
	}
	var err error
	if t.Digest == scorebridge.DigestImmediate {
		err = s.Queue.EnqueueNotification(ctx, t.ID, g.ID, time.Time{}, s.now())
	} else {
		err = s.Queue.EnqueueNotification(ctx, t.ID, 0, g.PeriodStart, g.PeriodStart.Add(t.Digest.Period()))
	}
	if err != nil && s.Logger != nil {
		s.Logger.Warn("queue notification delivery", "target", t.ID, "err", err)
	}
}

// Deliver sends a target's unsent group (groupID) or its digest of a
// period (groupID 0) and marks it sent. A failure is kept on the target
// and returned, for the job to retry with backoff. A target removed or
// turned off meanwhile sends nothing.
func (s *Service) Deliver(ctx context.Context, targetID string, groupID int64, period time.Time) error {
	t, err := s.Store.FindTarget(ctx, targetID)
	if scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if !t.Enabled {
		return nil
	}
	groups, err := s.Store.UnsentGroups(ctx, targetID, groupID, period)
	if err != nil || len(groups) == 0 {
		return err
	}
	now := s.now()
	if err := s.send(ctx, t, compose(t.Digest, groups, now)); err != nil {
		return err
	}
	ids := make([]int64, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	return s.Store.MarkSent(ctx, targetID, ids, now)
}

// send delivers one message, keeping a failure on the target.
func (s *Service) send(ctx context.Context, t *scorebridge.NotificationTarget, m Message) error {
	sec, err := s.Store.TargetSecrets(ctx, t.ID)
	if err != nil {
		return err
	}
	sender := s.Email
	if t.Channel == scorebridge.ChannelWebhook {
		sender = s.Webhook
	}
	if sender == nil {
		return fmt.Errorf("notify: no sender for %s targets", t.Channel)
	}
	if err := sender.Send(ctx, t, sec, m); err != nil {
		if rerr := s.Store.RecordFailure(ctx, t.ID, err.Error(), s.now()); rerr != nil && s.Logger != nil {
			s.Logger.Error("record notification failure", "target", t.ID, "err", rerr)
		}
		return err
	}
	return nil
}

// Sweep schedules every group that is due and unsent: those whose enqueue
// was lost, and those whose job gave up on a target that kept failing.
// The periodic job calls it; the queue's uniqueness keeps it from sending
// anything twice.
func (s *Service) Sweep(ctx context.Context) error {
	due, err := s.Store.DueGroups(ctx, s.now())
	if err != nil {
		return err
	}
	targets := map[string]*scorebridge.NotificationTarget{}
	for _, g := range due {
		t, ok := targets[g.TargetID]
		if !ok {
			if t, err = s.Store.FindTarget(ctx, g.TargetID); err != nil {
				continue
			}
			targets[g.TargetID] = t
		}
		if s.Queue == nil {
			continue
		}
		if t.Digest == scorebridge.DigestImmediate {
			err = s.Queue.EnqueueNotification(ctx, t.ID, g.ID, time.Time{}, s.now())
		} else {
			err = s.Queue.EnqueueNotification(ctx, t.ID, 0, g.PeriodStart, s.now())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// FindTargets lists every target.
func (s *Service) FindTargets(ctx context.Context) ([]*scorebridge.NotificationTarget, error) {
	return s.Store.FindTargets(ctx)
}

// FindTarget returns ENOTFOUND for an unknown id.
func (s *Service) FindTarget(ctx context.Context, id string) (*scorebridge.NotificationTarget, error) {
	return s.Store.FindTarget(ctx, id)
}

// CreateTarget validates t (its URL and mail server through the outbound
// guard) and stores it with its secrets sealed and its audit event. A
// webhook without a signing secret gets one, returned here only.
func (s *Service) CreateTarget(ctx context.Context, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets) (string, error) {
	if err := validate(t, &sec, true, s.AllowPrivate); err != nil {
		return "", err
	}
	made := ""
	if t.Channel == scorebridge.ChannelWebhook && sec.WebhookSecret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		made = base64.RawURLEncoding.EncodeToString(b)
		sec.WebhookSecret = made
	}
	t.ID = newTargetID()
	if err := s.Store.CreateTarget(ctx, t, sec, targetEvent("create", t, sec)); err != nil {
		return "", err
	}
	return made, nil
}

// UpdateTarget replaces a target's settings; empty secrets are kept.
func (s *Service) UpdateTarget(ctx context.Context, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets) error {
	old, err := s.Store.FindTarget(ctx, t.ID)
	if err != nil {
		return err
	}
	t.Channel = old.Channel // a target keeps its channel: make a new one instead
	if err := validate(t, &sec, false, s.AllowPrivate); err != nil {
		return err
	}
	if t.Channel == scorebridge.ChannelWebhook && sec.WebhookURL == "" {
		t.WebhookHost = old.WebhookHost
	}
	return s.Store.UpdateTarget(ctx, t, sec, targetEvent("update", t, sec))
}

// DeleteTarget removes a target.
func (s *Service) DeleteTarget(ctx context.Context, id string) error {
	t, err := s.Store.FindTarget(ctx, id)
	if err != nil {
		return err
	}
	return s.Store.DeleteTarget(ctx, id, targetEvent("delete", t, scorebridge.NotificationSecrets{}))
}

// TestTarget sends a test message now, whatever the target's digest and
// events, and returns what went wrong as EUNAVAILABLE.
func (s *Service) TestTarget(ctx context.Context, id string) error {
	t, err := s.Store.FindTarget(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	m := compose(scorebridge.DigestImmediate, []*scorebridge.NotificationGroup{{
		TargetID: t.ID, Kind: scorebridge.NotifyTest, Cause: "test", PeriodStart: now, Events: 1, FirstAt: now, LastAt: now,
		Subject: "Test message for " + t.Name,
		Details: "scorebridge sends notifications for this target " + digestWords(t.Digest) + ".",
	}}, now)
	if err := s.send(ctx, t, m); err != nil {
		var se *scorebridge.Error
		if errors.As(err, &se) {
			return err
		}
		return scorebridge.Errorf(scorebridge.EUNAVAILABLE, "The test message to %s was not delivered: %s", t.Name, err.Error())
	}
	return s.Store.MarkSent(ctx, t.ID, nil, now)
}

func digestWords(d scorebridge.DigestPeriod) string {
	switch d {
	case scorebridge.DigestHourly:
		return "once an hour, each cause once"
	case scorebridge.DigestDaily:
		return "once a day, each cause once"
	}
	return "at once, one message per cause and hour"
}

func newTargetID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("ntf-%x", b)
}

// targetEvent is the audit event of a change to a target: its settings,
// and which secrets were set, never their values.
func targetEvent(change string, t *scorebridge.NotificationTarget, sec scorebridge.NotificationSecrets) *scorebridge.AuditEvent {
	var sealed []string
	for _, f := range []struct{ name, value string }{{"smtp password", sec.SMTPPassword}, {"webhook URL", sec.WebhookURL}, {"signing key", sec.WebhookSecret}} {
		if f.value != "" {
			sealed = append(sealed, f.name)
		}
	}
	detail := map[string]any{"change": change, "name": t.Name, "channel": string(t.Channel)}
	if change != "delete" {
		detail["enabled"], detail["digest"], detail["events"] = t.Enabled, string(t.Digest), t.Events
		switch t.Channel {
		case scorebridge.ChannelEmail:
			detail["smtpHost"], detail["smtpPort"], detail["from"], detail["to"] = t.SMTPHost, t.SMTPPort, t.From, t.To
		case scorebridge.ChannelWebhook:
			detail["webhookHost"], detail["webhookFormat"] = t.WebhookHost, string(t.WebhookFormat)
		}
		if len(sealed) > 0 {
			// Which sealed values were given, never the values.
			detail["sealedSet"] = sealed
		}
	}
	return &scorebridge.AuditEvent{Action: scorebridge.AuditNotificationTarget, Target: t.ID, Detail: detail}
}
