package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// ruleRoutes are the Rules pages and /api/v1/rules, for admins.
func (s *Server) ruleRoutes() []route {
	if s.rules == nil {
		return nil
	}
	const admin = scorebridge.RoleAdmin
	return []route{
		{"GET /rules", admin, s.handleRulesPage},
		{"POST /rules", admin, s.idempotent(s.handleRuleCreateForm)},
		{"GET /rules/{id}", admin, s.handleRulePage},
		{"POST /rules/{id}/enabled", admin, s.handleRuleEnabledForm},
		{"POST /rules/{id}/run", admin, s.handleRuleRunForm},
		{"POST /rules/{id}/delete", admin, s.handleRuleDeleteForm},

		{"GET /api/v1/rules", admin, s.handleAPIRuleList},
		{"POST /api/v1/rules", admin, s.idempotent(s.handleAPIRuleCreate)},
		{"GET /api/v1/rules/{id}", admin, s.handleAPIRuleGet},
		{"PUT /api/v1/rules/{id}", admin, s.handleAPIRulePut},
		{"DELETE /api/v1/rules/{id}", admin, s.handleAPIRuleDelete},
		{"POST /api/v1/rules/{id}/preview", admin, s.handleAPIRulePreview},
		{"POST /api/v1/rules/{id}/run", admin, s.handleAPIRuleRun},
	}
}

// parseRule reads a rule's JSON body: name, enabled, conditions, action,
// maxTicketsPerRun. Unknown members, at any depth, are refused by name.
func parseRule(members []jsonMember) (*scorebridge.Rule, error) {
	r := &scorebridge.Rule{}
	for _, m := range members {
		var err error
		switch m.Name {
		case "name":
			r.Name, err = decodeString(m)
		case "enabled":
			r.Enabled, err = decodeBool(m)
		case "maxTicketsPerRun":
			r.MaxTicketsPerRun, err = wholeNumber(m)
		case "conditions":
			err = strictDecode(m, &r.Conditions)
		case "action":
			err = strictDecode(m, &r.Action)
		default:
			err = scorebridge.FieldErrorf(m.Name, "unknown member %q; a rule takes name, enabled, conditions, action and maxTicketsPerRun", m.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// strictDecode decodes an object member into v, refusing members v does
// not have and values of the wrong type, naming the member.
func strictDecode(m jsonMember, v any) error {
	dec := json.NewDecoder(bytes.NewReader(m.Value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			name := strings.Trim(f, `"`)
			return scorebridge.FieldErrorf(m.Name+"."+name, "unknown member %q in %s", name, m.Name)
		}
		if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
			return scorebridge.FieldErrorf(m.Name+"."+te.Field, "%s.%s must be a %s", m.Name, te.Field, te.Type.Kind())
		}
		return scorebridge.FieldErrorf(m.Name, "%s must be an object as the API documentation shows", m.Name)
	}
	return nil
}

func (s *Server) handleAPIRuleList(w http.ResponseWriter, r *http.Request) {
	rs, err := s.rules.FindRules(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if rs == nil {
		rs = []*scorebridge.Rule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rs})
}

func (s *Server) handleAPIRuleCreate(w http.ResponseWriter, r *http.Request) {
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	rule, err := parseRule(members)
	if err == nil {
		err = s.rules.CreateRule(r.Context(), rule)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/rules/"+url.PathEscape(rule.ID))
	writeJSON(w, http.StatusCreated, rule)
}

func (s *Server) handleAPIRuleGet(w http.ResponseWriter, r *http.Request) {
	rule, err := s.rules.FindRuleByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rule)
}

// handleAPIRulePut replaces the rule's definition with the body (a whole
// rule, as POST takes).
func (s *Server) handleAPIRulePut(w http.ResponseWriter, r *http.Request) {
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	rule, err := parseRule(members)
	if err == nil {
		rule.ID = r.PathValue("id")
		err = s.rules.UpdateRule(r.Context(), rule)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.handleAPIRuleGet(w, r)
}

func (s *Server) handleAPIRuleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.rules.DeleteRule(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAPIRulePreview(w http.ResponseWriter, r *http.Request) {
	p, err := s.rules.PreviewRule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleAPIRuleRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.rules.RunRule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, run)
}

// rulesPage is the Rules page: every rule with its last run, and the form
// of a new one.
type rulesPage struct {
	pageBase
	Rules      []*scorebridge.Rule
	Types      []scorebridge.TicketType
	Categories []scorebridge.Category
	Sources    []scorebridge.Source
	States     []scorebridge.State
	Form       url.Values
	Error      string
}

// rulePage is one rule with what it would do now.
type rulePage struct {
	pageBase
	Rule    *scorebridge.Rule
	Preview *scorebridge.RulePreview
	Run     *scorebridge.RuleRun
}

func (s *Server) handleRulesPage(w http.ResponseWriter, r *http.Request) {
	s.renderRules(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderRules(w http.ResponseWriter, r *http.Request, status int, form url.Values, problem string) {
	rs, err := s.rules.FindRules(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	notice := map[string]string{"deleted": "Rule deleted."}[r.URL.Query().Get("done")]
	if form == nil {
		form = url.Values{"type": {string(scorebridge.TicketIncident)}, "priority": {"3"}, "cap": {strconv.Itoa(scorebridge.DefaultRuleTicketsPerRun)}}
	}
	s.render(w, r, status, "rules", &rulesPage{pageBase: pageBase{Title: "Automation rules", Nav: "rules", Notice: notice},
		Rules: rs, Types: scorebridge.TicketTypes, Categories: scorebridge.Categories,
		Sources: scorebridge.Sources, States: scorebridge.States, Form: form, Error: problem})
}

// handleRuleCreateForm makes a rule from the page's form: every condition
// and a fixed priority; the API also takes priorities by score impact. A new rule
// starts disabled, so its preview is seen first.
func (s *Server) handleRuleCreateForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	f := r.PostForm
	rule := &scorebridge.Rule{Name: f.Get("name"), Action: scorebridge.RuleAction{TicketType: scorebridge.TicketType(f.Get("type")),
		Grouping: scorebridge.RuleGrouping(f.Get("grouping")), AssignmentGroup: strings.TrimSpace(f.Get("assignmentGroup"))},
		Conditions: scorebridge.RuleConditions{Regressed: f.Get("regressed") == "true", NewSinceLastImport: f.Get("new") == "true", Drift: f.Get("drift") == "true"}}
	var err error
	for _, c := range f["category"] {
		rule.Conditions.Categories = append(rule.Conditions.Categories, scorebridge.Category(c))
	}
	for _, v := range f["source"] {
		rule.Conditions.Sources = append(rule.Conditions.Sources, scorebridge.Source(v))
	}
	for _, v := range f["state"] {
		rule.Conditions.States = append(rule.Conditions.States, scorebridge.State(v))
	}
	rule.Conditions.Services = commaList(f.Get("services"))
	rule.Conditions.Tiers = commaList(f.Get("tiers"))
	if rule.Action.Priority, err = strconv.Atoi(f.Get("priority")); err != nil {
		err = scorebridge.FieldErrorf("action.priority", "Choose a priority.")
	}
	if v := strings.TrimSpace(f.Get("minScoreImpact")); v != "" && err == nil {
		if rule.Conditions.MinScoreImpact, err = strconv.ParseFloat(v, 64); err != nil {
			err = scorebridge.FieldErrorf("conditions.minScoreImpact", "%q is not a number of points", v)
		}
	}
	if v := strings.TrimSpace(f.Get("cap")); v != "" && err == nil {
		if rule.MaxTicketsPerRun, err = strconv.Atoi(v); err != nil {
			err = scorebridge.FieldErrorf("maxTicketsPerRun", "%q is not a whole number of tickets", v)
		}
	}
	if err == nil {
		err = s.rules.CreateRule(r.Context(), rule)
	}
	if scorebridge.ErrorCode(err) == scorebridge.EINVALID {
		s.renderRules(w, r, http.StatusBadRequest, f, scorebridge.ErrorMessage(err)+" ("+scorebridge.ErrorField(err)+")")
		return
	} else if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/rules/"+url.PathEscape(rule.ID)+"?done=created", http.StatusSeeOther)
}

var ruleNotices = map[string]string{
	"created":  "Rule created, disabled: check its preview, then enable it.",
	"enabled":  "Rule enabled: it runs after every import and every hour.",
	"disabled": "Rule disabled.",
}

func (s *Server) handleRulePage(w http.ResponseWriter, r *http.Request) {
	s.renderRule(w, r, nil, ruleNotices[r.URL.Query().Get("done")])
}

func (s *Server) renderRule(w http.ResponseWriter, r *http.Request, run *scorebridge.RuleRun, notice string) {
	rule, err := s.rules.FindRuleByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.rules.PreviewRule(r.Context(), rule.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "rule", &rulePage{pageBase: pageBase{Title: "Rule: " + rule.Name, Nav: "rules", Notice: notice}, Rule: rule, Preview: p, Run: run})
}

func (s *Server) handleRuleEnabledForm(w http.ResponseWriter, r *http.Request) {
	rule, err := s.rules.FindRuleByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	rule.Enabled = r.FormValue("enabled") == "true"
	if err := s.rules.UpdateRule(r.Context(), rule); err != nil {
		s.error(w, r, err)
		return
	}
	done := map[bool]string{true: "enabled", false: "disabled"}[rule.Enabled]
	http.Redirect(w, r, "/rules/"+url.PathEscape(rule.ID)+"?done="+done, http.StatusSeeOther)
}

func (s *Server) handleRuleRunForm(w http.ResponseWriter, r *http.Request) {
	run, err := s.rules.RunRule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	notice := strconv.Itoa(len(run.TicketIDs)) + " ticket(s) queued."
	if run.CapHit {
		notice += " The cap of tickets per run was reached: the rest wait for the next run."
	}
	s.renderRule(w, r, run, notice)
}

func (s *Server) handleRuleDeleteForm(w http.ResponseWriter, r *http.Request) {
	if err := s.rules.DeleteRule(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/rules?done=deleted", http.StatusSeeOther)
}

// commaList splits a comma-separated form field into its trimmed,
// non-empty words (services and tiers are free text, some with spaces).
func commaList(v string) []string {
	var out []string
	for _, w := range strings.Split(v, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}
