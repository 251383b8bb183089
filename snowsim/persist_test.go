package snowsim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// TestStateFile checks --state: what one instance wrote, the next one reads,
// counters included, and no secret is in the file in clear.
func TestStateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	in, err := snowsim.New(snowsim.Options{StateFile: path, AdminPassword: "s3cret-admin-pw"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := in.Insert("incident", map[string]string{"short_description": "survives restarts", "work_notes": "note"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Insert("oauth_entity", map[string]string{"name": "scorebridge", "client_id": "abc", "client_secret": "very-secret-value"}); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"very-secret-value", "s3cret-admin-pw"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("state file holds %q in clear", secret)
		}
	}

	again, err := snowsim.New(snowsim.Options{StateFile: path, AdminPassword: "ignored-after-load"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got, ok := again.Get("incident", rec["sys_id"])
	if !ok || got["short_description"] != "survives restarts" {
		t.Fatalf("record after reload: %v %v", ok, got)
	}
	next, err := again.Insert("incident", map[string]string{"short_description": "second"})
	if err != nil {
		t.Fatal(err)
	}
	if next["number"] != "INC0010002" {
		t.Fatalf("counter not kept: %s", next["number"])
	}
	if _, err := again.BasicLogin("admin", "s3cret-admin-pw"); err != nil {
		t.Fatalf("admin password not kept: %v", err)
	}
	if j, _ := again.Query("sys_journal_field", "element_id="+rec["sys_id"]); len(j) != 1 {
		t.Fatalf("journal rows after reload: %d", len(j))
	}
}

// TestStateFileBad refuses a state file that is not ours, saying why.
func TestStateFileBad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := snowsim.New(snowsim.Options{StateFile: path})
	if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("err = %v", err)
	}
}
