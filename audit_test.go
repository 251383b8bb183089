package scorebridge_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

func TestRedactSecrets(t *testing.T) {
	in := map[string]any{
		"short_description": "Enable MFA",
		"client_secret":     "cs-value",
		"Password":          "pw-value",
		"nested": map[string]any{
			"refresh_token": "rt-value",
			"list":          []any{map[string]any{"Authorization": "Bearer bt-value", "ok": 1}},
		},
		"headers": map[string]string{"Cookie": "ck-value", "Accept": "json"},
	}
	out := scorebridge.RedactSecrets(in)
	b, _ := json.Marshal(out)
	for _, v := range []string{"cs-value", "pw-value", "rt-value", "bt-value", "ck-value"} {
		if strings.Contains(string(b), v) {
			t.Errorf("%s survived redaction: %s", v, b)
		}
	}
	for _, v := range []string{"Enable MFA", `"ok":1`, `"Accept":"json"`} {
		if !strings.Contains(string(b), v) {
			t.Errorf("%s lost by redaction: %s", v, b)
		}
	}
	if in["client_secret"] != "cs-value" {
		t.Error("RedactSecrets changed its input")
	}
	if scorebridge.RedactSecrets(nil) != nil {
		t.Error("nil detail must stay nil")
	}
}

type recordingAudit struct {
	scorebridge.AuditService
	events []*scorebridge.AuditEvent
}

func (r *recordingAudit) RecordAuditEvent(_ context.Context, e *scorebridge.AuditEvent) error {
	r.events = append(r.events, e)
	return nil
}

func TestRecordAuditFromContext(t *testing.T) {
	if err := scorebridge.RecordAudit(context.Background(), &scorebridge.AuditEvent{Action: "x"}); err != nil {
		t.Fatalf("no audit service in context must be a no-op: %v", err)
	}
	r := &recordingAudit{}
	ctx := scorebridge.NewContextWithAudit(context.Background(), r)
	if err := scorebridge.RecordAudit(ctx, &scorebridge.AuditEvent{Action: scorebridge.AuditImport}); err != nil || len(r.events) != 1 {
		t.Fatalf("RecordAudit = %v, %d events", err, len(r.events))
	}
}

func TestAPIToken(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	tok := &scorebridge.APIToken{ID: "1", Name: "ci", Role: scorebridge.RoleOperator}
	if u := tok.User(); u.Name != "token:ci" || u.ID != "token:1" || u.Role != scorebridge.RoleOperator {
		t.Errorf("User() = %+v", u)
	}
	if !tok.Active(now) {
		t.Error("a token without expiry or revocation is not active")
	}
	tok.ExpiresAt = &later
	if !tok.Active(now) || tok.Active(later) {
		t.Error("a token must be active until, and not at, its expiry")
	}
	tok.ExpiresAt, tok.RevokedAt = nil, &earlier
	if tok.Active(now) {
		t.Error("a revoked token is active")
	}
	for role, ok := range map[string]bool{"admin": true, "operator": true, "reader": true, "": false, "Admin": false, "root": false} {
		if scorebridge.ValidRole(role) != ok {
			t.Errorf("ValidRole(%q) = %v", role, !ok)
		}
	}
}

func TestAuditFilter_Validate(t *testing.T) {
	for limit, ok := range map[int]bool{0: true, 1: true, scorebridge.MaxAuditPage: true, -1: false, scorebridge.MaxAuditPage + 1: false} {
		err := scorebridge.AuditFilter{Limit: limit}.Validate()
		if (err == nil) != ok || (err != nil && scorebridge.ErrorField(err) != "limit") {
			t.Errorf("Validate(limit %d) = %v, want ok=%v", limit, err, ok)
		}
	}
}
