package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestSettingsPageAndAPI(t *testing.T) {
	b := setup(t, setupOptions{noCatalog: true, settings: true})
	home := b.do(t, http.MethodGet, "/", "", "")
	if !strings.Contains(home.body, `href="/settings"`) {
		t.Fatal("the navigation has no Settings entry")
	}
	page := b.do(t, http.MethodGet, "/settings", "", "")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Ticket tracking") || !strings.Contains(page.body, `name="driftPolicy"`) {
		t.Fatalf("settings page: %d\n%s", page.StatusCode, page.body)
	}
	// The form: a bad interval is refused with the setting's name, and
	// nothing is saved.
	form := url.Values{"driftPolicy": {"new"}, "syncIntervalMinutes": {"0"}}
	bad := b.do(t, http.MethodPost, "/settings", "application/x-www-form-urlencoded", form.Encode())
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.body, "syncIntervalMinutes must be between 1") {
		t.Fatalf("bad interval: %d\n%s", bad.StatusCode, bad.body)
	}
	api := b.do(t, http.MethodGet, "/api/v1/settings", "", "")
	if !strings.Contains(api.body, `"driftPolicy":"none"`) || !strings.Contains(api.body, `"resolveOnCompleted":false`) || !strings.Contains(api.body, `"syncIntervalMinutes":5`) {
		t.Fatalf("settings after a refused save: %s", api.body)
	}
	form = url.Values{"driftPolicy": {"new"}, "syncIntervalMinutes": {"3"}, "resolveOnCompleted": {"true"}}
	if ok := b.do(t, http.MethodPost, "/settings", "application/x-www-form-urlencoded", form.Encode()); ok.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", ok.StatusCode, ok.body)
	}
	api = b.do(t, http.MethodGet, "/api/v1/settings", "", "")
	if !strings.Contains(api.body, `"driftPolicy":"new"`) || !strings.Contains(api.body, `"resolveOnCompleted":true`) || !strings.Contains(api.body, `"syncIntervalMinutes":3`) {
		t.Fatalf("settings after the form: %s", api.body)
	}
	// The API: typed values, a bad one names its setting.
	for body, field := range map[string]string{
		`{"driftPolicy":"always"}`:       scorebridge.SettingDriftPolicy,
		`{"resolveOnCompleted":"maybe"}`: scorebridge.SettingResolveOnCompleted,
		`{"syncIntervalMinutes":1.5}`:    scorebridge.SettingSyncInterval,
		`{"syncIntervalMinutes":0}`:      scorebridge.SettingSyncInterval,
		`{"pollEvery":3}`:                "pollEvery",
	} {
		resp := b.do(t, http.MethodPut, "/api/v1/settings", "application/json", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.body, `"field":"`+field+`"`) {
			t.Errorf("PUT %s: %d %s", body, resp.StatusCode, resp.body)
		}
	}
	resp := b.do(t, http.MethodPut, "/api/v1/settings", "application/json", `{"driftPolicy":"reopen","resolveOnCompleted":false}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.body, `"driftPolicy":"reopen"`) || !strings.Contains(resp.body, `"syncIntervalMinutes":3`) {
		t.Fatalf("PUT: %d %s", resp.StatusCode, resp.body)
	}
}

// Settings are for admins: an operator neither sees the entry nor reaches
// the page or the API.
func TestSettingsAdminOnly(t *testing.T) {
	b := setup(t, setupOptions{noCatalog: true, settings: true, user: &scorebridge.User{ID: "op", Name: "olga", Role: scorebridge.RoleOperator}})
	if home := b.do(t, http.MethodGet, "/", "", ""); strings.Contains(home.body, `href="/settings"`) {
		t.Error("an operator sees the Settings entry")
	}
	for _, c := range []struct{ method, path, ct, body string }{
		{http.MethodGet, "/settings", "", ""},
		{http.MethodGet, "/api/v1/settings", "", ""},
		{http.MethodPut, "/api/v1/settings", "application/json", `{"driftPolicy":"new"}`},
	} {
		if r := b.do(t, c.method, c.path, c.ct, c.body); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s as an operator: %d, want 403", c.method, c.path, r.StatusCode)
		}
	}
}
