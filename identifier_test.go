package scorebridge_test

import (
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestValidateIdentifier(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"abc\x00def", "a\nb", "acme\u202e", "zero\u200bwidth", "soft\u00adhyphen", "esc\x1b[31m"} {
		err := scorebridge.ValidateIdentifier("client id", bad)
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) != "client id" ||
			!strings.Contains(scorebridge.ErrorMessage(err), "control or invisible") {
			t.Errorf("ValidateIdentifier(%q) = %v, want EINVALID", bad, err)
		}
	}
	for _, good := range []string{"c0ffee", "scorebridge.integration", "Ana María", "пример"} {
		if err := scorebridge.ValidateIdentifier("name", good); err != nil {
			t.Errorf("ValidateIdentifier(%q) = %v", good, err)
		}
	}
}

// Ids that are path steps or the creation form's path are refused.
func TestReservedIDsRefused(t *testing.T) {
	t.Parallel()
	for _, id := range []string{".", "..", "new"} {
		r := &scorebridge.Recommendation{ID: id, Title: "T", Category: scorebridge.CategoryIdentity, Source: scorebridge.SourceUser,
			MaxScore: 1, State: scorebridge.StateToAddress}
		if err := r.Validate(); scorebridge.ErrorField(err) != "id" {
			t.Errorf("id %q: %v, want an error on id", id, err)
		}
	}
}
