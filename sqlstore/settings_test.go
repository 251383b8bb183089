package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestSettings_DefaultsUpdateAndAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewSettingsStore(db)
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "u-1", Name: "alice", Role: scorebridge.RoleAdmin})
		got, err := s.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.DriftPolicy() != scorebridge.DriftNone || got.ResolveOnCompleted() || got.SyncInterval() != 5*time.Minute {
			t.Fatalf("defaults: drift %q, resolve %v, sync %s", got.DriftPolicy(), got.ResolveOnCompleted(), got.SyncInterval())
		}
		got, err = s.UpdateSettings(ctx, map[string]string{
			scorebridge.SettingDriftPolicy: "reopen", scorebridge.SettingResolveOnCompleted: "true", scorebridge.SettingSyncInterval: " 2 ",
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.DriftPolicy() != scorebridge.DriftReopen || !got.ResolveOnCompleted() || got.SyncInterval() != 2*time.Minute || got.UpdatedBy == "" {
			t.Fatalf("after update: drift %q, resolve %v, sync %s, by %q", got.DriftPolicy(), got.ResolveOnCompleted(), got.SyncInterval(), got.UpdatedBy)
		}
		events, _, err := sqlstore.NewAuditStore(db).FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditSettings})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Detail[scorebridge.SettingDriftPolicy] == nil {
			t.Fatalf("settings audit events: %+v", events)
		}
		// The same values again change nothing and audit nothing.
		if _, err := s.UpdateSettings(ctx, map[string]string{scorebridge.SettingDriftPolicy: "reopen"}); err != nil {
			t.Fatal(err)
		}
		if events, _, _ = sqlstore.NewAuditStore(db).FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditSettings}); len(events) != 1 {
			t.Fatalf("an update that changed nothing was audited: %d events", len(events))
		}
	})
}

func TestSettings_BadValuesRefusedWithTheirName(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		s := sqlstore.NewSettingsStore(db)
		ctx := context.Background()
		for _, c := range []struct {
			change map[string]string
			field  string
		}{
			{map[string]string{scorebridge.SettingDriftPolicy: "sometimes"}, scorebridge.SettingDriftPolicy},
			{map[string]string{scorebridge.SettingResolveOnCompleted: "yes please"}, scorebridge.SettingResolveOnCompleted},
			{map[string]string{scorebridge.SettingSyncInterval: "0"}, scorebridge.SettingSyncInterval},
			{map[string]string{scorebridge.SettingSyncInterval: "5m"}, scorebridge.SettingSyncInterval},
			{map[string]string{"colour": "blue"}, "colour"},
			// A good value beside a bad one: nothing is stored.
			{map[string]string{scorebridge.SettingDriftPolicy: "new", scorebridge.SettingSyncInterval: "-3"}, scorebridge.SettingSyncInterval},
		} {
			_, err := s.UpdateSettings(ctx, c.change)
			if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != c.field || !strings.Contains(scorebridge.ErrorMessage(err), c.field) {
				t.Errorf("%v: %v (field %q), want EINVALID naming %s", c.change, err, scorebridge.ErrorField(err), c.field)
			}
		}
		got, err := s.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Values) != 0 {
			t.Fatalf("refused changes left values behind: %v", got.Values)
		}
	})
}
