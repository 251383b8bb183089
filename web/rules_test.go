package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestRulesAPIAndPages(t *testing.T) {
	b := setup(t, setupOptions{rules: true, sla: true})
	// Bad input is refused naming the field; nothing is stored.
	for body, field := range map[string]string{
		`{"action":{"ticketType":"incident","priority":3}}`:                                                    "name",
		`{"name":"x","action":{"ticketType":"task","priority":3}}`:                                             "action.ticketType",
		`{"name":"x","action":{"ticketType":"change","priority":5}}`:                                           "action.priority",
		`{"name":"x","action":{"ticketType":"incident","priority":3,"urgency":1}}`:                             "action.urgency",
		`{"name":"x","conditions":{"categories":["Network"]},"action":{"ticketType":"incident","priority":3}}`: "conditions.categories",
		`{"name":"x","conditions":{"minScoreImpact":"high"},"action":{"ticketType":"incident","priority":3}}`:  "conditions.minScoreImpact",
		`{"name":"x","action":{"ticketType":"incident","priority":3},"maxTicketsPerRun":0.5}`:                  "maxTicketsPerRun",
		`{"name":"x","action":{"ticketType":"incident","priority":3},"when":"hourly"}`:                         "when",
		`{"name":"x","action":{"ticketType":"incident","priority":3,"assignmentGroup":"SecOps"}}`:              "action.assignmentGroup",
	} {
		resp := b.do(t, http.MethodPost, "/api/v1/rules", "application/json", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.body, `"field":"`+field+`"`) {
			t.Errorf("POST %s: %d %s", body, resp.StatusCode, resp.body)
		}
	}
	if list := b.do(t, http.MethodGet, "/api/v1/rules", "", ""); list.body != `{"items":[]}`+"\n" && !strings.Contains(list.body, `"items":[]`) {
		t.Fatalf("rules after refused input: %s", list.body)
	}
	created := b.do(t, http.MethodPost, "/api/v1/rules", "application/json",
		`{"name":"Identity","conditions":{"categories":["Identity"]},"action":{"ticketType":"change","priority":3,"priorityByImpact":[{"minScoreImpact":5,"priority":2}]},"maxTicketsPerRun":2}`)
	if created.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", created.StatusCode, created.body)
	}
	var rule scorebridge.Rule
	if err := json.Unmarshal([]byte(created.body), &rule); err != nil || rule.ID == "" || rule.Enabled || rule.Action.Grouping != scorebridge.RuleEach {
		t.Fatalf("created %+v (%v)", rule, err)
	}
	var p scorebridge.RulePreview
	prev := b.do(t, http.MethodPost, "/api/v1/rules/"+rule.ID+"/preview", "application/json", "")
	if err := json.Unmarshal([]byte(prev.body), &p); err != nil || prev.StatusCode != http.StatusOK || len(p.Tickets) != 2 || !p.CapHit {
		t.Fatalf("preview: %d %s", prev.StatusCode, prev.body)
	}
	for _, tk := range p.Tickets {
		if tk.Type != scorebridge.TicketChange || tk.Actions[0].Category != scorebridge.CategoryIdentity || tk.DueDate == "" || tk.Name == "" {
			t.Errorf("previewed %+v", tk)
		}
	}
	var run scorebridge.RuleRun
	ran := b.do(t, http.MethodPost, "/api/v1/rules/"+rule.ID+"/run", "application/json", "")
	if err := json.Unmarshal([]byte(ran.body), &run); err != nil || ran.StatusCode != http.StatusAccepted || len(run.TicketIDs) != 2 || !run.CapHit {
		t.Fatalf("run: %d %s", ran.StatusCode, ran.body)
	}
	// The page shows the rule, its last run and its preview; the
	// navigation has Rules.
	page := b.do(t, http.MethodGet, "/rules/"+rule.ID, "", "")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "2 ticket(s) of") || !strings.Contains(page.body, "the cap was reached") || !strings.Contains(page.body, "Preview: what a run would make now") {
		t.Fatalf("rule page: %d\n%s", page.StatusCode, page.body)
	}
	list := b.do(t, http.MethodGet, "/rules", "", "")
	if !strings.Contains(list.body, `href="/rules"`) || !strings.Contains(list.body, `href="/rules/`+rule.ID+`"`) {
		t.Fatalf("rules page:\n%s", list.body)
	}
	// The form: enable, a refused new rule names what is wrong.
	if en := b.do(t, http.MethodPost, "/rules/"+rule.ID+"/enabled", "application/x-www-form-urlencoded", "enabled=true"); en.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", en.StatusCode, en.body)
	}
	if got := b.do(t, http.MethodGet, "/api/v1/rules/"+rule.ID, "", ""); !strings.Contains(got.body, `"enabled":true`) {
		t.Fatalf("after enabling: %s", got.body)
	}
	form := url.Values{"name": {"Bad"}, "type": {"change"}, "priority": {"5"}, "cap": {"3"}}
	bad := b.do(t, http.MethodPost, "/rules", "application/x-www-form-urlencoded", form.Encode())
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.body, "(action.priority)") {
		t.Fatalf("bad form: %d\n%s", bad.StatusCode, bad.body)
	}
	put := b.do(t, http.MethodPut, "/api/v1/rules/"+rule.ID, "application/json", `{"name":"Identity, renamed","action":{"ticketType":"incident","priority":2}}`)
	if put.StatusCode != http.StatusOK || !strings.Contains(put.body, `"name":"Identity, renamed"`) || !strings.Contains(put.body, `"enabled":false`) {
		t.Fatalf("PUT: %d %s", put.StatusCode, put.body)
	}
	if del := b.do(t, http.MethodDelete, "/api/v1/rules/"+rule.ID, "", ""); del.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", del.StatusCode, del.body)
	}
	if gone := b.do(t, http.MethodGet, "/api/v1/rules/"+rule.ID, "", ""); gone.StatusCode != http.StatusNotFound {
		t.Fatalf("after DELETE: %d", gone.StatusCode)
	}
}

// The page's form sets every condition the API accepts.
func TestRuleFormEveryCondition(t *testing.T) {
	b := setup(t, setupOptions{rules: true, sla: true})
	page := b.do(t, http.MethodGet, "/rules", "", "")
	for _, name := range []string{"category", "source", "services", "tiers", "minScoreImpact", "state", "new", "regressed", "drift"} {
		if !strings.Contains(page.body, `name="`+name+`"`) {
			t.Errorf("the rules form has no %q field", name)
		}
	}
	form := url.Values{"name": {"Everything set"}, "type": {"problem"}, "priority": {"2"}, "cap": {"7"},
		"category": {"Identity", "Data"}, "source": {"microsoft"}, "services": {" AzureAD, Exchange ,"}, "tiers": {"Core"},
		"minScoreImpact": {"4.5"}, "state": {"to_address", "planned"}, "new": {"true"}, "regressed": {"true"}, "drift": {"true"}}
	made := b.do(t, http.MethodPost, "/rules", "application/x-www-form-urlencoded", form.Encode())
	if made.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", made.StatusCode, made.body)
	}
	id := strings.TrimPrefix(strings.SplitN(made.Header.Get("Location"), "?", 2)[0], "/rules/")
	var rule scorebridge.Rule
	if got := b.do(t, http.MethodGet, "/api/v1/rules/"+id, "", ""); json.Unmarshal([]byte(got.body), &rule) != nil {
		t.Fatalf("rule %s: %s", id, got.body)
	}
	c := rule.Conditions
	want := scorebridge.RuleConditions{Categories: []scorebridge.Category{"Identity", "Data"}, Sources: []scorebridge.Source{"microsoft"},
		Services: []string{"AzureAD", "Exchange"}, Tiers: []string{"Core"}, MinScoreImpact: 4.5,
		States: []scorebridge.State{"to_address", "planned"}, NewSinceLastImport: true, Regressed: true, Drift: true}
	if gotJSON, _ := json.Marshal(c); string(gotJSON) != string(must(json.Marshal(want))) {
		t.Errorf("conditions %s, want %s", gotJSON, must(json.Marshal(want)))
	}
	if rule.Action.TicketType != scorebridge.TicketProblem || rule.MaxTicketsPerRun != 7 || rule.Enabled {
		t.Errorf("rule %+v", rule)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
