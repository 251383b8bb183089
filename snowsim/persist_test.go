package snowsim_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestStateSurvivesKill: a record answered 201 is in the state of the next
// instance even when the first never saved nor closed (as after SIGKILL),
// and its number is not handed out again.
func TestStateSurvivesKill(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	first, err := snowsim.New(snowsim.Options{StateFile: path, SaveInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(first)
	req, _ := http.NewRequest("POST", srv.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"answered 201"}`))
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	srv.Close()
	if res.StatusCode != 201 {
		t.Fatalf("POST %d", res.StatusCode)
	}
	del, err := first.Insert("incident", map[string]string{"short_description": "deleted later"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Delete("incident", del["sys_id"]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	// first is abandoned without Close: nothing but the journal was written
	// since it started.
	second, err := snowsim.New(snowsim.Options{StateFile: path, SaveInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	rows, err := second.Query("incident", "short_description=answered 201")
	if err != nil || len(rows) != 1 || rows[0]["number"] != "INC0010001" {
		t.Fatalf("the answered record after a kill: %v %v", rows, err)
	}
	if gone, _ := second.Query("incident", "short_description=deleted later"); len(gone) != 0 {
		t.Fatalf("a deleted record came back: %v", gone)
	}
	if audit, _ := second.Query("sys_audit_delete", "documentkey="+del["sys_id"]); len(audit) != 1 {
		t.Fatalf("the deletion's audit was lost: %v", audit)
	}
	next, err := second.Insert("incident", map[string]string{"short_description": "after the kill"})
	if err != nil {
		t.Fatal(err)
	}
	if next["number"] != "INC0010003" {
		t.Fatalf("number %s after INC0010001 and the deleted INC0010002: a number was reused", next["number"])
	}
	_ = first // kept alive until here, as a killed process's files are
}
