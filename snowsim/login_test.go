package snowsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

func TestLoginRefusesInactiveAndLockedOutUsers(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	for _, tc := range []struct{ user, password, message string }{
		{snowsim.UserInactive, snowsim.DemoPassword, "User account is inactive"},
		{snowsim.UserLocked, snowsim.DemoPassword, "User account is locked out"},
		{"admin", "wrong", "User name or password invalid"},
		{"nobody", "wrong", "User name or password invalid"},
		// Without the password, a locked-out account reads like any failure.
		{snowsim.UserLocked, "wrong", "User name or password invalid"},
	} {
		c := e.browser(t)
		p := e.login(t, c, tc.user, tc.password)
		if p.status != http.StatusOK || !strings.Contains(p.body, tc.message) || !strings.Contains(p.body, `name="user_password"`) {
			t.Errorf("%s/%s: want the form again with %q, got %d", tc.user, tc.password, tc.message, p.status)
		}
		if p := fetch(t, c, http.MethodGet, e.srv.URL+"/incident_list.do", nil); p.status != http.StatusFound {
			t.Errorf("%s: refused login still opened the list (%d)", tc.user, p.status)
		}
	}
}

func TestLoginRedirectsOnlyWithinTheInstance(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	for target, want := range map[string]string{
		"/change_request_list.do":    "/change_request_list.do",
		"https://evil.example/":      "/incident_list.do",
		"//evil.example/x":           "/incident_list.do",
		"/\\evil.example":            "/incident_list.do",
		"":                           "/incident_list.do",
		"/incident.do?sys_id=abc&x=": "/incident.do?sys_id=abc&x=",
	} {
		p := fetch(t, e.browser(t), http.MethodPost, e.srv.URL+"/login.do", url.Values{
			"user_name": {"admin"}, "user_password": {"admin"}, "sysparm_goto_url": {target}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Errorf("goto %q: %d Location %q, want %q", target, p.status, p.header.Get("Location"), want)
		}
	}
}

func TestSSONoticeAndNotYouLocalLogin(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{SSO: true})
	c := e.browser(t)
	p := fetch(t, c, http.MethodGet, authorizeURL(e, "st", ""), nil)
	if !strings.Contains(p.body, "Your instance uses single sign-on") || strings.Contains(p.body, `name="user_password"`) {
		t.Fatalf("SSO on: want the SSO notice without a local form: %s", p.body)
	}
	if !strings.Contains(p.body, `href="/side_door.do?sysparm_goto_url=`) {
		t.Fatalf("SSO notice has no local login link: %s", p.body)
	}
	// The local login link shows the form and comes back to the request.
	local := fetch(t, c, http.MethodGet, e.srv.URL+"/side_door.do?sysparm_goto_url="+url.QueryEscape("/oauth_auth.do?"+mustQuery(t, authorizeURL(e, "st", ""))), nil)
	if !strings.Contains(local.body, `name="user_password"`) {
		t.Fatalf("side_door.do: no local form: %s", local.body)
	}
	form := hiddenFields(local.body)
	form.Set("user_name", "admin")
	form.Set("user_password", "admin")
	p = fetch(t, c, http.MethodPost, e.srv.URL+"/login.do", form)
	if p.status != http.StatusSeeOther || p.location(t).Path != "/oauth_auth.do" {
		t.Fatalf("local login: %d %v", p.status, p.header)
	}
	consent := fetch(t, c, http.MethodGet, e.srv.URL+p.location(t).String(), nil)
	if !strings.Contains(consent.body, "Logged in as System Administrator") {
		t.Fatalf("consent page after local login: %s", consent.body)
	}

	// "Not you?" drops the login and offers the local form again.
	e.in.SetSSO(false)
	notYou := between(consent.body, `id="not_you" href="`, `"`)
	p = fetch(t, c, http.MethodGet, e.srv.URL+htmlUnescape(notYou), nil)
	if !strings.Contains(p.body, `name="user_name"`) {
		t.Fatalf("Not you: want the login form: %s", p.body)
	}
	p = fetch(t, c, http.MethodGet, authorizeURL(e, "st", ""), nil)
	if !strings.Contains(p.body, `name="user_name"`) || strings.Contains(p.body, "would like to connect") {
		t.Fatalf("after Not you the browser is still logged in: %s", p.body)
	}
}

func mustQuery(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.RawQuery
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
