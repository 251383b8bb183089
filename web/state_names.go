package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// stateNameRoutes are the configuration page "Customize ticket state
// names" and its API. They exist when the tracking service keeps names.
func (s *Server) stateNameRoutes() []route {
	if s.stateNames == nil {
		return nil
	}
	const (
		reader = scorebridge.RoleReader
		admin  = scorebridge.RoleAdmin
	)
	return []route{
		{"GET /connections/{id}/state-names", admin, s.handleStateNames},
		{"POST /connections/{id}/state-names", admin, s.handleStateNamesSave},
		{"POST /connections/{id}/state-names/refresh", admin, s.handleStateNamesRefresh},
		{"GET /api/v1/connections/{id}/state-names", reader, s.handleAPIStateNames},
		{"PUT /api/v1/connections/{id}/state-names", admin, s.handleAPIStateNamesPut},
		{"POST /api/v1/connections/{id}/state-names/refresh", admin, s.handleAPIStateNamesRefresh},
	}
}

// refreshStateNames reads a newly authorized connection's state lists. A
// failure is logged, not shown: the built-in names serve meanwhile, and
// the page's "Refresh from ServiceNow" tries again.
func (s *Server) refreshStateNames(r *http.Request, connectionID string) {
	if s.stateNames == nil {
		return
	}
	if _, err := s.stateNames.RefreshStateNames(r.Context(), connectionID); err != nil {
		s.logger.Warn("ticket state names not read from the instance; built-in names show until a refresh", "connection", connectionID, "error", err)
	}
}

// stateNamesAnswer is GET /api/v1/connections/{id}/state-names.
type stateNamesAnswer struct {
	ConnectionID string                       `json:"connectionId"`
	RefreshedAt  *time.Time                   `json:"refreshedAt"`
	Items        []scorebridge.StateNameEntry `json:"items"`
}

func newStateNamesAnswer(id string, n *scorebridge.StateNames) stateNamesAnswer {
	a := stateNamesAnswer{ConnectionID: id, Items: n.Entries()}
	if n != nil && !n.RefreshedAt.IsZero() {
		at := n.RefreshedAt
		a.RefreshedAt = &at
	}
	return a
}

func (s *Server) handleAPIStateNames(w http.ResponseWriter, r *http.Request) {
	s.answerStateNames(w, r, s.stateNames.StateNames)
}

func (s *Server) handleAPIStateNamesRefresh(w http.ResponseWriter, r *http.Request) {
	s.answerStateNames(w, r, s.stateNames.RefreshStateNames)
}

// answerStateNames answers the names read (or refreshed) for the request's
// connection.
func (s *Server) answerStateNames(w http.ResponseWriter, r *http.Request, read func(context.Context, string) (*scorebridge.StateNames, error)) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := read(r.Context(), c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newStateNamesAnswer(c.ID, n))
}

// handleAPIStateNamesPut replaces the connection's renames with the body's
// {"renames": [{"table", "value", "name"}]}; an empty list clears them.
func (s *Server) handleAPIStateNamesPut(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	renames, err := parseRenames(members)
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := s.stateNames.RenameStates(r.Context(), c.ID, renames)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newStateNamesAnswer(c.ID, n))
}

// parseRenames reads the PUT body strictly: only "renames", each an object
// of exactly table, value (a string or a whole number) and name.
func parseRenames(members []jsonMember) ([]scorebridge.StateRename, error) {
	var raw []json.RawMessage
	found := false
	for _, m := range members {
		if m.Name != "renames" {
			return nil, scorebridge.FieldErrorf(m.Name, "unknown member %q; send {\"renames\": [{\"table\", \"value\", \"name\"}]}", m.Name)
		}
		found = true
		if isNull(m.Value) || json.Unmarshal(m.Value, &raw) != nil {
			return nil, scorebridge.FieldErrorf("renames", "renames must be an array of {\"table\", \"value\", \"name\"} objects")
		}
	}
	if !found {
		return nil, scorebridge.FieldErrorf("renames", "renames is required: the full list of renamed states (an empty list clears them)")
	}
	out := make([]scorebridge.StateRename, 0, len(raw))
	for i, item := range raw {
		field := fmt.Sprintf("renames[%d]", i)
		var v struct {
			Table string          `json:"table"`
			Value json.RawMessage `json:"value"`
			Name  *string         `json:"name"`
		}
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return nil, scorebridge.FieldErrorf(field, "%s must be an object of table, value and name (strings): %s", field, strings.TrimPrefix(err.Error(), "json: "))
		}
		var value string
		if err := json.Unmarshal(v.Value, &value); err != nil {
			var n json.Number
			d := json.NewDecoder(bytes.NewReader(v.Value))
			d.UseNumber()
			if d.Decode(&n) != nil {
				return nil, scorebridge.FieldErrorf(field+".value", "value must be a state's whole number, such as 2 or \"-5\"")
			}
			value = n.String()
		}
		if v.Name == nil {
			return nil, scorebridge.FieldErrorf(field+".name", "name is required")
		}
		out = append(out, scorebridge.StateRename{Table: v.Table, Value: value, Name: *v.Name})
	}
	return out, nil
}

// stateNamesPage is the data of "Customize ticket state names".
type stateNamesPage struct {
	pageBase
	Connection *connectionView
	Tables     []stateNameTable
	Refreshed  time.Time
	// Errors are keyed by "table.value"; Form holds what was typed when
	// the page comes back with errors.
	Errors map[string]string
	Form   map[string]string
}

// stateNameTable is one table's states on the page.
type stateNameTable struct {
	Table   string
	Label   string
	Entries []scorebridge.StateNameEntry
}

var stateTableLabels = map[string]string{
	scorebridge.StateTableIncident: "Incident",
	scorebridge.StateTableChange:   "Change request",
	scorebridge.StateTableProblem:  "Problem",
}

// stateNameNotices are the page's confirmations after a redirect.
var stateNameNotices = map[string]string{
	"saved":     "State names saved.",
	"refreshed": "State names read from ServiceNow.",
}

func (s *Server) handleStateNames(w http.ResponseWriter, r *http.Request) {
	s.renderStateNames(w, r, http.StatusOK, nil, nil, stateNameNotices[r.URL.Query().Get("done")])
}

func (s *Server) renderStateNames(w http.ResponseWriter, r *http.Request, status int, form, errs map[string]string, notice string) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := s.stateNames.StateNames(r.Context(), c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := &stateNamesPage{
		pageBase:   pageBase{Title: "Customize ticket state names", Nav: "connections", Notice: notice},
		Connection: s.viewConnection(c), Errors: errs, Form: form,
	}
	if n != nil {
		page.Refreshed = n.RefreshedAt
	}
	for _, e := range n.Entries() {
		if len(page.Tables) == 0 || page.Tables[len(page.Tables)-1].Table != e.Table {
			page.Tables = append(page.Tables, stateNameTable{Table: e.Table, Label: stateTableLabels[e.Table]})
		}
		t := &page.Tables[len(page.Tables)-1]
		t.Entries = append(t.Entries, e)
	}
	page.Crumbs = []crumb{{Label: "ServiceNow", Path: "/connections"}, {Label: instanceHost(c.InstanceURL), Path: "/connections/" + c.ID}}
	s.render(w, r, status, "state_names", page)
}

// handleStateNamesSave reads the form: one field "name.<table>.<value>"
// per state, empty for the instance's label.
func (s *Server) handleStateNamesSave(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	form := map[string]string{}
	var renames []scorebridge.StateRename
	errs := map[string]string{}
	for k, vs := range r.PostForm {
		table, value, ok := strings.Cut(strings.TrimPrefix(k, "name."), ".")
		if !strings.HasPrefix(k, "name.") || !ok {
			continue
		}
		v := strings.TrimSpace(vs[len(vs)-1])
		form[table+"."+value] = vs[len(vs)-1]
		if v == "" {
			continue
		}
		rn := scorebridge.StateRename{Table: table, Value: value, Name: v}
		if err := rn.Validate("name"); err != nil {
			errs[table+"."+value] = scorebridge.ErrorMessage(err)
			continue
		}
		renames = append(renames, rn)
	}
	if len(errs) == 0 {
		if _, err := s.stateNames.RenameStates(r.Context(), c.ID, renames); err == nil {
			http.Redirect(w, r, "/connections/"+c.ID+"/state-names?done=saved", http.StatusSeeOther)
			return
		} else if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			s.error(w, r, err)
			return
		} else {
			errs["form"] = scorebridge.ErrorMessage(err)
		}
	}
	s.renderStateNames(w, r, http.StatusBadRequest, form, errs, "")
}

func (s *Server) handleStateNamesRefresh(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if _, err := s.stateNames.RefreshStateNames(r.Context(), c.ID); err != nil {
		s.renderStateNames(w, r, http.StatusOK, nil, map[string]string{"refresh": "The state lists could not be read from ServiceNow: " + scorebridge.ErrorMessage(err)}, "")
		return
	}
	http.Redirect(w, r, "/connections/"+c.ID+"/state-names?done=refreshed", http.StatusSeeOther)
}

// FieldID is a state's input id on the page, stable for tests and
// labels: "state-name-incident-2", "state-name-change_request--5".
func (p *stateNamesPage) FieldID(e scorebridge.StateNameEntry) string {
	return "state-name-" + e.Table + "-" + e.Value
}

// FormValue is what a state's input shows: what was typed when the page
// comes back with errors, else the admin's rename.
func (p *stateNamesPage) FormValue(e scorebridge.StateNameEntry) string {
	if p.Form != nil {
		return p.Form[e.Table+"."+e.Value]
	}
	return e.Rename
}

// FieldError is a state's error, "" when none.
func (p *stateNamesPage) FieldError(e scorebridge.StateNameEntry) string {
	return p.Errors[e.Table+"."+e.Value]
}
