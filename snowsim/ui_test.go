package snowsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

func TestUIRequiresLogin(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	c := e.browser(t)
	for _, path := range []string{"/incident_list.do", "/change_request_list.do", "/incident.do?sys_id=0123"} {
		p := fetch(t, c, http.MethodGet, e.srv.URL+path, nil)
		if p.status != http.StatusFound || p.location(t).Path != "/login.do" || p.location(t).Query().Get("sysparm_goto_url") != path {
			t.Errorf("%s without login: %d %v", path, p.status, p.header.Get("Location"))
		}
	}
	// A user without itil is kept out of the modules.
	c = e.browser(t)
	e.login(t, c, snowsim.UserNoRoles, snowsim.DemoPassword)
	if p := fetch(t, c, http.MethodGet, e.srv.URL+"/incident_list.do", nil); p.status != http.StatusForbidden ||
		!strings.Contains(p.body, "Security constraints prevent access to requested page") {
		t.Errorf("user without roles: %d", p.status)
	}
}

func TestUIListAndFormShowRecords(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	beth, _ := e.in.Query("sys_user", "user_name="+snowsim.UserITIL)
	inc, err := e.in.Insert("incident", map[string]string{"short_description": "Turn on MFA <for admins>", "impact": "1", "urgency": "2",
		"assigned_to": beth[0]["sys_id"], "work_notes": "first note", "correlation_id": "sb-1"})
	if err != nil {
		t.Fatal(err)
	}
	chg, err := e.in.Insert("change_request", map[string]string{"short_description": "Rotate keys"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.browser(t)
	e.login(t, c, snowsim.UserITIL, snowsim.DemoPassword)

	p := fetch(t, c, http.MethodGet, e.srv.URL+"/incident_list.do", nil)
	for _, want := range []string{inc["number"], "Turn on MFA &lt;for admins&gt;", "New", "2 - High", "Beth Anglin", `href="/incident.do?sys_id=` + inc["sys_id"] + `"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("incident list lacks %q", want)
		}
	}
	if strings.Contains(p.body, chg["number"]) {
		t.Error("incident list shows a change request")
	}
	p = fetch(t, c, http.MethodGet, e.srv.URL+"/change_request_list.do?sysparm_query="+url.QueryEscape("short_description=Rotate keys"), nil)
	if !strings.Contains(p.body, chg["number"]) || !strings.Contains(p.body, "1 record matching") {
		t.Errorf("change list with a query: %s", p.body)
	}

	p = fetch(t, c, http.MethodGet, e.srv.URL+"/incident.do?sys_id="+inc["sys_id"], nil)
	for _, want := range []string{inc["number"], "first note", "(Work notes)", "sb-1", `name="work_notes"`, `name="close_code"`, `id="resolve_incident"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("incident form lacks %q", want)
		}
	}
	if p := fetch(t, c, http.MethodGet, e.srv.URL+"/incident.do?sys_id="+chg["sys_id"], nil); p.status != http.StatusNotFound {
		t.Errorf("a change request through incident.do: %d", p.status)
	}
	if p := fetch(t, c, http.MethodGet, e.srv.URL+"/nav_to.do?uri="+url.QueryEscape("/change_request.do?sys_id="+chg["sys_id"]), nil); p.status != http.StatusFound ||
		p.header.Get("Location") != "/change_request.do?sys_id="+chg["sys_id"] {
		t.Errorf("nav_to.do: %d %q", p.status, p.header.Get("Location"))
	}
}

// formPost submits a record form with its form token.
func formPost(t *testing.T, e *simEnv, c *http.Client, table, sysID string, values url.Values) page {
	t.Helper()
	form := fetch(t, c, http.MethodGet, e.srv.URL+"/"+table+".do?sys_id="+sysID, nil)
	values.Set("sysparm_ck", hiddenFields(form.body).Get("sysparm_ck"))
	return fetch(t, c, http.MethodPost, e.srv.URL+"/"+table+".do?sys_id="+sysID, values)
}

func TestUIFormsChangeStateAddWorkNotesAndResolve(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, snowsim.Knobs{})
	e.in.SetDataPolicy(true)
	inc, _ := e.in.Insert("incident", map[string]string{"short_description": "Worked in the UI"})
	c := e.browser(t)
	e.login(t, c, snowsim.UserITIL, snowsim.DemoPassword)

	p := formPost(t, e, c, "incident", inc["sys_id"], url.Values{"sysparm_action": {"update"}, "state": {"2"}, "work_notes": {"investigating"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", p.status, p.body)
	}
	got, _ := e.in.Get("incident", inc["sys_id"])
	if got["state"] != "2" || got["sys_updated_by"] != snowsim.UserITIL {
		t.Fatalf("after update: state %q by %q", got["state"], got["sys_updated_by"])
	}
	notes, _ := e.in.Query("sys_journal_field", "element_id="+inc["sys_id"]+"^element=work_notes")
	if len(notes) != 1 || notes[0]["value"] != "investigating" || notes[0]["sys_created_by"] != snowsim.UserITIL {
		t.Fatalf("work note: %v", notes)
	}

	// The data policy refuses a resolve without close fields, and says so.
	p = formPost(t, e, c, "incident", inc["sys_id"], url.Values{"sysparm_action": {"resolve"}, "close_notes": {"kept"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Data Policy Exception: The following fields are mandatory: Resolution code") {
		t.Fatalf("resolve without close code: %d %s", p.status, p.body)
	}
	if !strings.Contains(p.body, ">kept</textarea>") {
		t.Error("the refused form lost the close notes the user typed")
	}
	if got, _ := e.in.Get("incident", inc["sys_id"]); got["state"] != "2" {
		t.Fatalf("refused resolve changed the state to %q", got["state"])
	}

	p = formPost(t, e, c, "incident", inc["sys_id"], url.Values{"sysparm_action": {"resolve"},
		"close_code": {"Solution provided"}, "close_notes": {"MFA enforced"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("resolve: %d %s", p.status, p.body)
	}
	got, _ = e.in.Get("incident", inc["sys_id"])
	if got["state"] != "6" || got["close_code"] != "Solution provided" || got["resolved_at"] == "" {
		t.Fatalf("after resolve: %v", got)
	}

	// Change requests close the same way.
	chg, _ := e.in.Insert("change_request", map[string]string{"short_description": "Closed in the UI"})
	p = formPost(t, e, c, "change_request", chg["sys_id"], url.Values{"sysparm_action": {"resolve"},
		"close_code": {"successful"}, "close_notes": {"done"}})
	if got, _ := e.in.Get("change_request", chg["sys_id"]); p.status != http.StatusSeeOther || got["state"] != "3" {
		t.Fatalf("close change: %d state %q", p.status, got["state"])
	}

	// A form without its token is refused.
	p = fetch(t, c, http.MethodPost, e.srv.URL+"/incident.do?sys_id="+inc["sys_id"], url.Values{"sysparm_action": {"update"}, "state": {"1"}})
	if p.status != http.StatusForbidden {
		t.Fatalf("form without sysparm_ck: %d", p.status)
	}
}
