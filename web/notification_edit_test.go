package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A target is edited from the page: its settings are shown without its
// secrets, saved ones replace them, an empty secret keeps the stored one,
// and a bad field is named.
func TestNotificationTargetEditForm(t *testing.T) {
	b := setup(t, setupOptions{noCatalog: true, notifications: true})
	resp := b.do(t, http.MethodPost, "/api/v1/notifications/targets", "application/json",
		`{"name":"Ops hook","channel":"webhook","webhookUrl":"https://hooks.example.org/in/credential-in-path","webhookSecret":"s3cret-signing","events":["ticket.failed"]}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.body)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(resp.body), &created); err != nil {
		t.Fatal(err)
	}
	if list := b.do(t, http.MethodGet, "/notifications", "", ""); !strings.Contains(list.body, `href="/notifications/`+created.ID+`/edit"`) {
		t.Fatalf("no edit link on the page:\n%s", list.body)
	}
	page := b.do(t, http.MethodGet, "/notifications/"+created.ID+"/edit", "", "")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, `value="Ops hook"`) || !strings.Contains(page.body, `value="ticket.failed" checked`) ||
		strings.Contains(page.body, "credential-in-path") || strings.Contains(page.body, "s3cret-signing") {
		t.Fatalf("edit page: %d\n%s", page.StatusCode, page.body)
	}
	form := url.Values{"name": {"Ops hook, daily"}, "digest": {"daily"}, "webhookFormat": {"slack"}, "events": {"ticket.overdue", "import.failed"}}
	saved := b.do(t, http.MethodPost, "/notifications/"+created.ID, "application/x-www-form-urlencoded", form.Encode())
	if saved.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", saved.StatusCode, saved.body)
	}
	got := b.do(t, http.MethodGet, "/api/v1/notifications/targets/"+created.ID, "", "")
	for _, want := range []string{`"name":"Ops hook, daily"`, `"digest":"daily"`, `"webhookFormat":"slack"`, `"events":["ticket.overdue","import.failed"]`,
		`"webhookHost":"hooks.example.org"`, `"hasWebhookSecret":true`, `"enabled":true`} {
		if !strings.Contains(got.body, want) {
			t.Errorf("after saving, %s lacks %s", got.body, want)
		}
	}
	form.Set("digest", "weekly")
	bad := b.do(t, http.MethodPost, "/notifications/"+created.ID, "application/x-www-form-urlencoded", form.Encode())
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.body, "not saved") {
		t.Fatalf("bad digest: %d\n%s", bad.StatusCode, bad.body)
	}
}
