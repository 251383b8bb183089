package tracking

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// Push headers the business rule sends.
const (
	HeaderTimestamp = "X-Scorebridge-Timestamp" // unix seconds
	HeaderSignature = "X-Scorebridge-Signature" // base64 (or hex) HMAC-SHA256 of timestamp + "." + body
)

// MaxPushSkew is how far a push's timestamp may be from the center's clock.
const MaxPushSkew = 5 * time.Minute

// Sign returns the signature of a push body at timestamp ts with secret:
// base64 of HMAC-SHA256 over ts + "." + body, as the business rule computes
// it with GlideCertificateEncryption.generateMac.
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// PushEvent is the body a business rule posts on a change of a tracked
// record: the record's raw values and, optionally, display values.
type PushEvent struct {
	Table       string            `json:"table"`
	Operation   string            `json:"operation"` // insert, update, delete
	SysID       string            `json:"sys_id"`
	SysModCount string            `json:"sys_mod_count"`
	Record      map[string]string `json:"record"`
	Display     map[string]string `json:"display"`
}

// ReceivePush verifies a push (signature, age, replay) and applies its change.
// Returns EUNAUTHORIZED for an unsigned, badly signed or stale push,
// ECONFLICT for a replay and EINVALID for a body that is not an event.
func (s *Service) ReceivePush(ctx context.Context, connectionID, ts, signature string, body []byte) error {
	if ts == "" || signature == "" {
		return scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "Unsigned push: %s and %s are required.", HeaderTimestamp, HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The push timestamp %q is not unix seconds.", ts)
	}
	now := s.cfg.Now()
	if d := now.Sub(time.Unix(sec, 0)); d > MaxPushSkew || d < -MaxPushSkew {
		return scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "Stale push: its timestamp is %s from the center's clock (at most %s allowed).", d.Round(time.Second), MaxPushSkew)
	}
	secret, err := s.cfg.Store.PushSecret(ctx, connectionID)
	if err != nil {
		return err
	}
	want := Sign(secret, ts, body)
	if !validSignature(want, signature) {
		return scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The push signature does not match: check the secret in the business rule.")
	}
	if err := s.cfg.Store.UseSignature(ctx, connectionID, want, now.Add(-2*MaxPushSkew)); err != nil {
		return err
	}
	var ev PushEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return scorebridge.Errorf(scorebridge.EINVALID, "The push body is not a JSON event: %v", err)
	}
	if ev.SysID == "" && ev.Record != nil {
		ev.SysID = ev.Record["sys_id"]
	}
	if ev.SysID == "" {
		return scorebridge.FieldErrorf("sys_id", "The push names no sys_id.")
	}
	if _, ok := trackedTables[ev.Table]; !ok {
		return nil // not a table the center tracks: nothing to do
	}
	c := changeFromPush(ev)
	applied, err := s.cfg.Store.ApplyChanges(ctx, connectionID, []scorebridge.RecordChange{c}, s.namer(ctx, connectionID), "")
	if err != nil {
		return err
	}
	s.follow(ctx, applied)
	return nil
}

func validSignature(want, got string) bool {
	w, _ := base64.StdEncoding.DecodeString(want)
	if g, err := base64.StdEncoding.DecodeString(got); err == nil && hmac.Equal(w, g) {
		return true
	}
	g, err := hex.DecodeString(got)
	return err == nil && hmac.Equal(w, g)
}

func changeFromPush(ev PushEvent) scorebridge.RecordChange {
	r := ev.Record
	disp := func(k string) string {
		if v := ev.Display[k]; v != "" {
			return v
		}
		return r[k]
	}
	mod, _ := strconv.Atoi(ev.SysModCount)
	if ev.SysModCount == "" {
		mod, _ = strconv.Atoi(r["sys_mod_count"])
	}
	at, _ := servicenow.ParseDateTime(r["sys_updated_on"])
	return scorebridge.RecordChange{
		SysID: ev.SysID, Table: ev.Table, ModCount: mod, UpdatedOn: at, Deleted: ev.Operation == "delete",
		State: r["state"], AssignedTo: disp("assigned_to"), AssignmentGroup: disp("assignment_group"),
		Priority: r["priority"], DueDate: r["due_date"], CloseCode: r["close_code"], CloseNotes: r["close_notes"],
		ResolvedAt: r["resolved_at"], ClosedAt: r["closed_at"], WorkNotes: ev.Display["work_notes"], Comments: ev.Display["comments"],
		Source: "push",
	}
}

// PushSecret returns the connection's push secret for the business rule
// script, made on first use. Only admins see it, on the connection page.
func (s *Service) PushSecret(ctx context.Context, connectionID string) (string, error) {
	return s.cfg.Store.PushSecret(ctx, connectionID)
}
