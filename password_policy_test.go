package scorebridge_test

import (
	"testing"

	"github.com/scorebridge/scorebridge"
)

// Common and breached passwords, those built around them and the account's
// own name are refused; ordinary long passphrases are not.
func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{
		"qazwsxedcrfv",     // on the list (keyboard walk)
		"1q2w3e4r5t6y",     // on the list
		"PASSWORD1234",     // a listed word with digits around it
		"!!dragon2024!!",   //
		"123456789012",     // digits only
		"abcabcabcabc",     // one piece repeated
		"aaaaaaaaaaaaaaaa", //
	} {
		if err := scorebridge.ValidatePasswordFor(pw, "ana"); scorebridge.ErrorField(err) != "password" {
			t.Errorf("password %q: %v, want refused", pw, err)
		}
	}
	for _, tc := range []struct{ pw, name string }{
		{"alexandra.smith", "alexandra.smith"},
		{"Alexandra-Smith-2026", "alexandra.smith"},
		{"my admin account", "admin"},
	} {
		if err := scorebridge.ValidatePasswordFor(tc.pw, tc.name); scorebridge.ErrorField(err) != "password" {
			t.Errorf("password %q for %q: %v, want refused", tc.pw, tc.name, err)
		}
	}
	for _, pw := range []string{"correct horse battery", "Integration-Pass-2026!", "a long enough password", "tulip-canoe-oxide-47"} {
		if err := scorebridge.ValidatePasswordFor(pw, "ana"); err != nil {
			t.Errorf("password %q refused: %v", pw, err)
		}
	}
}
