package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/notify"
)

func TestNotificationTargetsAPIAndPage(t *testing.T) {
	b := setup(t, setupOptions{noCatalog: true, notifications: true})
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- body
	}))
	t.Cleanup(hook.Close)

	// Bad bodies name their field.
	for body, field := range map[string]string{
		`{"name":"x","channel":"webhook","webhookUrl":"` + hook.URL + `","colour":"red"}`:    "colour",
		`{"name":"x","channel":"webhook","webhookUrl":"` + hook.URL + `","digest":"weekly"}`: "digest",
		`{"name":"x","channel":"pager"}`:                   "channel",
		`{"name":"x","channel":"webhook","smtpPort":"25"}`: "smtpPort",
	} {
		resp := b.do(t, http.MethodPost, "/api/v1/notifications/targets", "application/json", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.body, `"field":"`+field+`"`) {
			t.Errorf("POST %s: %d %s", body, resp.StatusCode, resp.body)
		}
	}
	resp := b.do(t, http.MethodPost, "/api/v1/notifications/targets", "application/json",
		`{"name":"Ops hook","channel":"webhook","webhookUrl":"`+hook.URL+`/in/credential-in-path","events":["ticket.failed"]}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.body)
	}
	var created struct {
		ID            string `json:"id"`
		SigningSecret string `json:"signingSecret"`
		WebhookHost   string `json:"webhookHost"`
	}
	if err := json.Unmarshal([]byte(resp.body), &created); err != nil || created.SigningSecret == "" || strings.Contains(resp.body, "credential-in-path") {
		t.Fatalf("created = %s", resp.body)
	}
	list := b.do(t, http.MethodGet, "/api/v1/notifications/targets", "", "")
	if strings.Contains(list.body, created.SigningSecret) || strings.Contains(list.body, "credential-in-path") || !strings.Contains(list.body, `"hasWebhookSecret":true`) {
		t.Errorf("list shows a secret: %s", list.body)
	}
	test := b.do(t, http.MethodPost, "/api/v1/notifications/targets/"+created.ID+"/test", "", "")
	if test.StatusCode != http.StatusOK {
		t.Fatalf("test: %d %s", test.StatusCode, test.body)
	}
	r, body := <-got, <-bodies
	ts := r.Header.Get(notify.HeaderTimestamp)
	var n int64
	json.Unmarshal([]byte(ts), &n)
	if r.Header.Get(notify.HeaderSignature) != notify.Sign(created.SigningSecret, n, body) || r.URL.Path != "/in/credential-in-path" {
		t.Errorf("delivery: %s %v", r.URL, r.Header)
	}
	// PUT keeps the secrets it is not given.
	put := b.do(t, http.MethodPut, "/api/v1/notifications/targets/"+created.ID, "application/json", `{"name":"Ops hook 2","channel":"webhook","digest":"daily"}`)
	if put.StatusCode != http.StatusOK || !strings.Contains(put.body, `"digest":"daily"`) || !strings.Contains(put.body, `"webhookHost":"`+created.WebhookHost+`"`) || !strings.Contains(put.body, `"hasWebhookSecret":true`) {
		t.Fatalf("put: %d %s", put.StatusCode, put.body)
	}
	page := b.do(t, http.MethodGet, "/notifications", "", "")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Ops hook 2") || strings.Contains(page.body, "credential-in-path") {
		t.Fatalf("page: %d %s", page.StatusCode, page.body)
	}
	// The page's form refuses a bad address with its field, and keeps no
	// secret in what it sends back.
	form := url.Values{"channel": {"email"}, "name": {"Mail"}, "smtpHost": {"smtp.example.org"}, "from": {"not an address"}, "to": {"a@example.org"}, "smtpPassword": {"pw-not-echoed"}}
	bad := b.do(t, http.MethodPost, "/notifications", "application/x-www-form-urlencoded", form.Encode())
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.body, "from must be an email address") || strings.Contains(bad.body, "pw-not-echoed") {
		t.Errorf("bad form: %d %s", bad.StatusCode, bad.body)
	}
	del := b.do(t, http.MethodDelete, "/api/v1/notifications/targets/"+created.ID, "", "")
	if del.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", del.StatusCode, del.body)
	}
}
