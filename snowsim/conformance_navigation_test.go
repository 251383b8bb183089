package snowsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Deep links into the agent UI, as "View in ServiceNow" and other tools send
// them. navigate-using-url.md is "Navigate to a record or module using a
// URL"; r_NavigatingByURLExamples.md is "Examples of navigating by URL"
// (platform-user-interface, ServiceNow docs).

// follow fetches target and follows redirects on this instance, as a
// browser does, returning the last page and every path it went through.
func follow(t *testing.T, e *simEnv, c *http.Client, target string) (page, []string) {
	t.Helper()
	var hops []string
	p := fetch(t, c, http.MethodGet, e.srv.URL+target, nil)
	for i := 0; p.status >= 300 && p.status < 400; i++ {
		if i == 10 {
			t.Fatalf("redirect loop: %v", hops)
		}
		loc := p.location(t)
		hops = append(hops, loc.RequestURI())
		p = fetch(t, c, http.MethodGet, e.srv.URL+loc.RequestURI(), nil)
	}
	return p, hops
}

func TestConformanceNavigation(t *testing.T) {
	t.Parallel()
	type navCase struct {
		name, cite string
		path       string // {inc} and {chg} are the records' sys_ids, {incnum} and {chgnum} their numbers
		status     int
		want       []string // in the final page
		notWant    []string
	}
	e := newSimEnv(t, snowsim.Knobs{})
	inc, err := e.in.Insert("incident", map[string]string{"short_description": "Linked incident"})
	if err != nil {
		t.Fatal(err)
	}
	chg, err := e.in.Insert("change_request", map[string]string{"short_description": "Linked change"})
	if err != nil {
		t.Fatal(err)
	}
	prb, err := e.in.Insert("problem", map[string]string{"short_description": "Linked problem"})
	if err != nil {
		t.Fatal(err)
	}
	cis, err := e.in.Query("cmdb_ci", "name=lnux100")
	if err != nil || len(cis) != 1 {
		t.Fatal(err, len(cis))
	}
	props, err := e.in.Query("sys_properties", "name=glide.sys.default.tz")
	if err != nil || len(props) != 1 {
		t.Fatal(err, len(props))
	}
	vars := strings.NewReplacer("{prop}", props[0]["sys_id"], "{inc}", inc["sys_id"], "{chg}", chg["sys_id"], "{incnum}", inc["number"], "{chgnum}", chg["number"],
		"{prb}", prb["sys_id"], "{prbnum}", prb["number"], "{ci}", cis[0]["sys_id"])
	// Links are written with the placeholders filled in, then escaped.
	enc := func(s string) string { return url.QueryEscape(vars.Replace(s)) }
	pathEnc := func(s string) string { return url.PathEscape(vars.Replace(s)) }
	cases := []navCase{
		{name: "nav_to a change request", cite: "r_NavigatingByURLExamples.md, Open an existing record: nav_to.do?uri=<table name>.do?sys_id=<sys_id>",
			path: "/nav_to.do?uri=" + enc("change_request.do?sys_id={chg}"), status: 200,
			want: []string{"{chgnum}", `id="close_change"`}, notWant: []string{"{incnum}"}},
		{name: "nav_to an incident", cite: "r_NavigatingByURLExamples.md, Open an existing record: nav_to.do?uri=<table name>.do?sys_id=<sys_id>",
			path: "/nav_to.do?uri=" + enc("incident.do?sys_id={inc}"), status: 200,
			want: []string{"{incnum}", `id="resolve_incident"`}},
		{name: "nav_to with a leading slash", cite: "navigate-using-url.md: nav_to.do?uri= then <page name>.do to open a form",
			path: "/nav_to.do?uri=" + enc("/incident.do?sys_id={inc}"), status: 200, want: []string{"{incnum}"}},
		{name: "nav_to a list", cite: "navigate-using-url.md: <table name>_list.do displays a list; sysparm_query returns the records that match",
			path: "/nav_to.do?uri=" + enc("change_request_list.do?sysparm_query=number={chgnum}"), status: 200,
			want: []string{"{chgnum}", "1 record matching"}},
		{name: "Next Experience classic target", cite: "navigate-using-url.md: the classic page URL as the target of the Next Experience frame, /now/nav/ui/classic/params/target/<page>",
			path: "/now/nav/ui/classic/params/target/" + pathEnc("change_request.do?sys_id={chg}"), status: 200,
			want: []string{"{chgnum}"}, notWant: []string{"{incnum}"}},
		{name: "unknown sys_id", cite: "navigate-using-url.md: sys_id opens that record in form view; for a sys_id with no record the platform shows Record not found",
			path: "/nav_to.do?uri=" + enc("change_request.do?sys_id=00000000000000000000000000000000"), status: 404,
			want: []string{"Record not found"}, notWant: []string{"{chgnum}", "{incnum}"}},
		{name: "record of another table", cite: "navigate-using-url.md: <table name>.do?sys_id= opens the record of that table only",
			path: "/nav_to.do?uri=" + enc("change_request.do?sys_id={inc}"), status: 404,
			want: []string{"Record not found"}, notWant: []string{"{incnum}"}},
		{name: "unknown table", cite: "navigate-using-url.md: <page name>.do opens a form of that table; a table the instance has no form for is Record not found",
			path: "/nav_to.do?uri=" + enc("no_such_table.do?sys_id={inc}"), status: 404,
			want: []string{"Record not found"}, notWant: []string{"{incnum}"}},
		{name: "unknown Next Experience target", cite: "navigate-using-url.md: as nav_to.do, an unknown table is Record not found",
			path: "/now/nav/ui/classic/params/target/" + pathEnc("no_such_table.do?sys_id={chg}"), status: 404,
			want: []string{"Record not found"}, notWant: []string{"{chgnum}"}},
		{name: "form by number", cite: "navigate-using-url.md: sysparm_query on a form URL opens the record that matches; links such as incident.do?sysparm_query=number=INC... in public ServiceNow integrations (e.g. the Teams connector card's View in ServiceNow)",
			path: "/incident.do?sysparm_query=" + enc("number={incnum}"), status: 200,
			want: []string{"{incnum}", `id="resolve_incident"`}},
		{name: "nav_to a form by number", cite: "navigate-using-url.md: nav_to.do?uri=<table>.do?sysparm_query=number=<number>",
			path: "/nav_to.do?uri=" + enc("change_request.do?sysparm_query=number={chgnum}"), status: 200,
			want: []string{"{chgnum}", `id="close_change"`}, notWant: []string{"{incnum}"}},
		{name: "form by a number nothing has", cite: "navigate-using-url.md: a form URL names one record; the simulator shows Record not found where the platform opens a new record",
			path: "/incident.do?sysparm_query=" + enc("number=INC9999999"), status: 404, want: []string{"Record not found"}},
		{name: "classic form link", cite: "r_NavigatingByURLExamples.md, Open an existing record: <table name>.do?sys_id=<sys_id>",
			path: "/change_request.do?sys_id={chg}", status: 200, want: []string{"{chgnum}"}, notWant: []string{"{incnum}"}},
		{name: "nav_to a problem", cite: "r_NavigatingByURLExamples.md, Open an existing record: nav_to.do?uri=<table name>.do?sys_id=<sys_id>, for any table",
			path: "/nav_to.do?uri=" + enc("problem.do?sys_id={prb}"), status: 200,
			want: []string{"{prbnum}", "Linked problem", `id="read_only"`}, notWant: []string{"{incnum}"}},
		{name: "problem by number", cite: "navigate-using-url.md: sysparm_query on a form URL opens the record that matches",
			path: "/problem.do?sysparm_query=" + enc("number={prbnum}"), status: 200, want: []string{"{prbnum}"}},
		{name: "a CI through its base table", cite: "r_NavigatingByURLExamples.md: <table name>.do?sys_id=<sys_id>; a record of an extended table opens through its parent",
			path: "/nav_to.do?uri=" + enc("cmdb_ci.do?sys_id={ci}"), status: 200, want: []string{"lnux100", "Linux Red Hat", "Linux Server"}},
		{name: "a form the role may not read", cite: "c_TableAPI.md/ACLs: sys_properties is admin-only on a fresh instance; a form of a table the user may not read is the platform's Security constraints prevent access to requested page",
			path: "/sys_properties.do?sys_id={prop}", status: 403, want: []string{"Security constraints"}, notWant: []string{"America/Los_Angeles"}},
		{name: "form without sys_id", cite: "r_NavigatingByURLExamples.md: a form URL names its record by sys_id",
			path: "/nav_to.do?uri=" + enc("incident.do"), status: 404, want: []string{"Record not found"}},
		{name: "another site", cite: "navigate-using-url.md: nav_to.do displays a page of the instance, never another site",
			path: "/nav_to.do?uri=" + enc("https://evil.example/incident.do?sys_id={inc}"), status: 404, want: []string{"Record not found"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.cite == "" {
				t.Fatal("every conformance case cites its documentation")
			}
			for _, loggedIn := range []bool{true, false} {
				b := e.browser(t)
				path := vars.Replace(c.path)
				if loggedIn {
					e.login(t, b, snowsim.UserITIL, snowsim.DemoPassword)
				} else {
					// A browser without a session goes through the login page
					// and comes back to the link.
					p := fetch(t, b, http.MethodGet, e.srv.URL+path, nil)
					loc := p.location(t)
					if p.status != http.StatusFound || loc.Path != "/login.do" {
						t.Fatalf("without login: %d %s", p.status, loc)
					}
					goTo := loc.Query().Get("sysparm_goto_url")
					p = fetch(t, b, http.MethodPost, e.srv.URL+"/login.do", url.Values{
						"user_name": {snowsim.UserITIL}, "user_password": {snowsim.DemoPassword}, "sysparm_goto_url": {goTo}})
					if p.status != http.StatusSeeOther || p.location(t).RequestURI() != path {
						t.Fatalf("login goes to %q, want %q", p.header.Get("Location"), path)
					}
				}
				p, hops := follow(t, e, b, path)
				if p.status != c.status {
					t.Fatalf("logged in %v: status %d, want %d via %v: %s", loggedIn, p.status, c.status, hops, p.body)
				}
				for _, w := range c.want {
					if !strings.Contains(p.body, vars.Replace(w)) {
						t.Errorf("logged in %v: page lacks %q", loggedIn, vars.Replace(w))
					}
				}
				for _, w := range c.notWant {
					if strings.Contains(p.body, vars.Replace(w)) {
						t.Errorf("logged in %v: page shows %q", loggedIn, vars.Replace(w))
					}
				}
			}
		})
	}
}
