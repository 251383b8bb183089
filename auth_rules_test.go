package scorebridge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

// passphrase returns the first n characters of a long phrase that does
// not repeat itself (repeated passwords are refused as common).
func passphrase(n int, accented bool) string {
	phrase := []rune("tulip canoe oxide walnut meadow lantern ember quartz harbor violet saffron glacier")
	if accented {
		phrase = []rune("été à côté d'un hôtel étrange près de la forêt où l'élève épelle déjà")
	}
	return string(phrase[:n])
}

func TestValidatePassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		passphrase(scorebridge.MinPasswordLength-1, false):        false,
		passphrase(scorebridge.MinPasswordLength, false):          true,
		passphrase(scorebridge.MinPasswordLength, true):           true, // characters, not bytes
		passphrase(scorebridge.MaxPasswordBytes, false):           true,
		passphrase(scorebridge.MaxPasswordBytes+1, false):         false, // bcrypt would cut it
		strings.Repeat("é", scorebridge.MaxPasswordBytes/2) + "a": false,
	} {
		err := scorebridge.ValidatePassword(pw)
		if (err == nil) != ok || (err != nil && scorebridge.ErrorField(err) != "password") {
			t.Errorf("ValidatePassword(%d bytes) = %v, want ok=%v", len(pw), err, ok)
		}
	}
}

func TestValidateRole_NamesEveryRole(t *testing.T) {
	for _, r := range scorebridge.Roles {
		if err := scorebridge.ValidateRole("role", r); err != nil {
			t.Errorf("ValidateRole(%q) = %v", r, err)
		}
	}
	err := scorebridge.ValidateRole("role", "root")
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != "role" {
		t.Fatalf("ValidateRole(root) = %v", err)
	}
	for _, r := range scorebridge.Roles {
		if !strings.Contains(scorebridge.ErrorMessage(err), r) {
			t.Errorf("message %q does not name %s", scorebridge.ErrorMessage(err), r)
		}
	}
}

func TestValidateSessionLifetimes(t *testing.T) {
	if err := scorebridge.ValidateSessionLifetimes(scorebridge.DefaultSessionIdle, scorebridge.DefaultSessionAbsolute); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	for _, bad := range [][2]time.Duration{{0, time.Hour}, {time.Hour, 0}, {-time.Hour, time.Hour}, {2 * time.Hour, time.Hour}} {
		if err := scorebridge.ValidateSessionLifetimes(bad[0], bad[1]); scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			t.Errorf("ValidateSessionLifetimes(%s, %s) = %v, want EINVALID", bad[0], bad[1], err)
		}
	}
}

func TestAPIToken_Validate(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, tc := range []struct {
		tok   scorebridge.APIToken
		field string
	}{
		{scorebridge.APIToken{Name: "ci", Role: scorebridge.RoleReader}, ""},
		{scorebridge.APIToken{Name: "ci", Role: scorebridge.RoleAdmin, ExpiresAt: &future}, ""},
		{scorebridge.APIToken{Name: "", Role: scorebridge.RoleReader}, "name"},
		{scorebridge.APIToken{Name: " ci", Role: scorebridge.RoleReader}, "name"},
		{scorebridge.APIToken{Name: strings.Repeat("n", scorebridge.MaxAPITokenNameLength+1), Role: scorebridge.RoleReader}, "name"},
		{scorebridge.APIToken{Name: "c\u200bi", Role: scorebridge.RoleReader}, "name"},
		{scorebridge.APIToken{Name: "ci", Role: "root"}, "role"},
		{scorebridge.APIToken{Name: "ci", Role: scorebridge.RoleReader, ExpiresAt: &past}, "expires"},
		{scorebridge.APIToken{Name: "ci", Role: scorebridge.RoleReader, ExpiresAt: &now}, "expires"},
	} {
		err := tc.tok.Validate(now)
		if got := scorebridge.ErrorField(err); got != tc.field || (tc.field == "") != (err == nil) {
			t.Errorf("Validate(%+v) = %v, want field %q", tc.tok, err, tc.field)
		}
	}
}
