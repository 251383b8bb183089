package snowsim

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The agent UI: what an agent sees of incidents and change requests, and
// what scorebridge's "View in ServiceNow" links open.
//
//	GET  /incident_list.do, /change_request_list.do   list views (sysparm_query narrows them)
//	GET  /incident.do?sys_id=..., /change_request.do?sys_id=...   record forms with the activity stream;
//	     ?sysparm_query=number=INC0010001 instead of sys_id opens the first record that matches
//	POST the same form URL   sysparm_ck, state, work_notes, comments, close_code, close_notes and
//	                         sysparm_action=update (button id sysverb_update) or resolve (button
//	                         id resolve_incident / close_change)
//	GET  /nav_to.do?uri=...   opens a list or record form, as links from other tools do; so does
//	     /now/nav/ui/classic/params/target/<table>.do%3Fsys_id%3D<id> (Next Experience)
//	     Unknown tables and records get the "Record not found" page.
//	GET  /<any other table>.do?sys_id=... (or ?sysparm_query=...)   that record, read-only
//
// Every page needs a browser login (login.go); without one it redirects to
// /login.do. Pages need the itil role (admin has it), as the modules do.
// Writes go through the same business rules and data policy as the Table
// API, as the logged-in user.

//go:embed templates/*.html
var templateFiles embed.FS

// uiTemplates are parsed once, so a broken template fails every test and
// the start-up, not a page view.
var uiTemplates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

type uiPages struct{ in *Instance }

func newUIPages(in *Instance) *uiPages { return &uiPages{in: in} }

// pageData is what every template gets: the layout's title and user, and the
// page's own data.
type pageData struct {
	Title string
	User  string // display name of the logged-in user, "" on login pages
	Body  any
}

// render writes a page; a template error is a bug, answered with a plain 500.
func (u *uiPages) render(w http.ResponseWriter, status int, name, title string, body any) {
	u.renderAs(w, status, name, pageData{Title: title, Body: body})
}

func (u *uiPages) renderAs(w http.ResponseWriter, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := uiTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (u *uiPages) errorPage(w http.ResponseWriter, status int, title, msg string) {
	u.render(w, status, "error.html", title, msg)
}

// uiTables are the tables with list and form pages, and how they resolve.
var uiTables = map[string]struct {
	resolveState, resolveLabel, resolveVerb, resolveID string
	fields                                             []string
}{
	"incident": {"6", "Resolve", "resolve", "resolve_incident", []string{
		"number", "caller_id", "category", "state", "impact", "urgency", "priority", "assignment_group", "assigned_to",
		"short_description", "description", "correlation_id", "correlation_display", "opened_at", "opened_by",
		"resolved_at", "close_code", "close_notes", "sys_updated_on", "sys_updated_by", "sys_mod_count"}},
	"change_request": {"3", "Close", "close", "close_change", []string{
		"number", "type", "category", "state", "risk", "impact", "urgency", "priority", "assignment_group", "assigned_to",
		"start_date", "end_date", "short_description", "description", "correlation_id", "correlation_display",
		"opened_at", "opened_by", "closed_at", "close_code", "close_notes", "sys_updated_on", "sys_updated_by", "sys_mod_count"}},
}

func (u *uiPages) routes() {
	in := u.in
	in.loginRoutes()
	for table := range uiTables {
		in.Handle("GET /"+table+"_list.do", u.page(table, u.list))
		in.Handle("GET /"+table+".do", u.page(table, u.form))
		in.Handle("POST /"+table+".do", u.page(table, u.submit))
	}
	// Every other table's form opens read-only, so a link to a problem,
	// a CI or a user lands on that record.
	for table := range in.tables {
		if _, ok := uiTables[table]; !ok {
			in.Handle("GET /"+table+".do", u.page(table, u.readOnlyForm))
		}
	}
	in.Handle("GET /nav_to.do", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.deepLink(w, r, r.URL.Query().Get("uri"))
	}))
	// Next Experience wraps classic pages: the target is the classic URL,
	// escaped into one path segment (change_request.do%3Fsys_id%3D...).
	in.Handle("GET /now/nav/ui/classic/params/target/{target...}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.deepLink(w, r, r.PathValue("target"))
	}))
	in.Handle("GET /{$}", http.RedirectHandler("/incident_list.do", http.StatusFound))
}

// deepLink opens the page a link names, such as
// change_request.do?sys_id=<id> or incident_list.do?sysparm_query=...,
// after the login. A form of an unknown table or record is the platform's
// "Record not found" page, never some other record or the default list.
func (u *uiPages) deepLink(w http.ResponseWriter, r *http.Request, uri string) {
	if _, _, ok := u.in.requireLogin(w, r); !ok {
		return
	}
	target, ok := deepLinkTarget(uri, func(table string) bool { _, ok := u.in.tables[table]; return ok })
	if !ok {
		u.errorPage(w, http.StatusNotFound, "Record not found", "Record not found")
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// deepLinkTarget maps a link's uri to a page of this instance: "" is the
// home page; a list of a table with UI pages is that page, and so is the
// form of any table hasForm knows.
func deepLinkTarget(uri string, hasForm func(table string) bool) (string, bool) {
	uri = strings.TrimPrefix(strings.TrimSpace(uri), "/")
	if uri == "" {
		return "/incident_list.do", true
	}
	p, err := url.Parse(uri)
	if err != nil || p.Scheme != "" || p.Host != "" || strings.Contains(p.Path, "/") {
		return "", false
	}
	if table, ok := strings.CutSuffix(p.Path, "_list.do"); ok {
		if _, known := uiTables[table]; !known {
			return "", false
		}
		target := "/" + table + "_list.do"
		if q := p.Query().Get("sysparm_query"); q != "" {
			target += "?sysparm_query=" + url.QueryEscape(q)
		}
		return target, true
	}
	table, ok := strings.CutSuffix(p.Path, ".do")
	if !ok || !hasForm(table) {
		return "", false
	}
	if id := p.Query().Get("sys_id"); id != "" {
		return "/" + table + ".do?sys_id=" + url.QueryEscape(id), true
	}
	if q := p.Query().Get("sysparm_query"); q != "" {
		return "/" + table + ".do?sysparm_query=" + url.QueryEscape(q), true
	}
	return "", false
}

type uiHandler func(w http.ResponseWriter, r *http.Request, table string, s *Session, ls *loginSession)

// page checks the login and the role before a UI handler runs.
func (u *uiPages) page(table string, h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ls, ok := u.in.requireLogin(w, r)
		if !ok {
			return
		}
		if !allowed(s, table, opRead) {
			u.errorPage(w, http.StatusForbidden, "Security constraints", "Security constraints prevent access to requested page")
			return
		}
		h(w, r, table, s, ls)
	})
}

type listRow struct {
	SysID, Link, Number, ShortDescription, State, Priority, AssignedTo, Updated string
}

type listPage struct {
	Table, Label, Query string
	Count               int
	Rows                []listRow
}

// listLimit bounds a list page; the list says how many records matched.
const listLimit = 500

func (u *uiPages) list(w http.ResponseWriter, r *http.Request, table string, s *Session, _ *loginSession) {
	in := u.in
	q := r.URL.Query().Get("sysparm_query")
	encoded := q
	if !strings.Contains(strings.ToUpper(q), "ORDERBY") {
		encoded = strings.TrimPrefix(q+"^ORDERBYDESCsys_updated_on", "^")
	}
	in.mu.RLock()
	t := in.tables[table]
	rows, total := in.selectLocked(t, encoded, s, 0, listLimit)
	page := listPage{Table: table, Label: t.Label, Query: q, Count: total}
	for _, rec := range rows {
		page.Rows = append(page.Rows, listRow{
			SysID: rec["sys_id"], Link: "/" + table + ".do?sys_id=" + rec["sys_id"], Number: rec["number"],
			ShortDescription: rec["short_description"],
			State:            in.displayValueLocked(t.Fields["state"], rec, rec["state"], s.Location),
			Priority:         in.displayValueLocked(t.Fields["priority"], rec, rec["priority"], s.Location),
			AssignedTo:       in.referenceDisplayLocked(t.Fields["assigned_to"], rec["assigned_to"]),
			Updated:          in.displayValueLocked(t.Fields["sys_updated_on"], rec, rec["sys_updated_on"], s.Location),
		})
	}
	user := in.userDisplayNameLocked(s.UserName)
	in.mu.RUnlock()
	u.renderAs(w, http.StatusOK, "list.html", pageData{Title: t.Label + "s", User: user, Body: page})
}

type formField struct{ Name, Label, Value string }

type option struct {
	Value, Label string
	Selected     bool
}

type journalEntry struct{ Element, FieldLabel, When, Who, Text string }

type formPage struct {
	Table, Label, Number, SysID, Action, Ck, Message string
	Fields                                           []formField
	States, CloseCodes                               []option
	CloseNotes                                       string
	CloseCodeLabel, CloseNotesLabel                  string
	DataPolicy                                       bool
	ResolveLabel, ResolveVerb, ResolveID             string
	Journal                                          []journalEntry
}

// form shows the record a form URL names: by sys_id, or the first record
// sysparm_query matches (incident.do?sysparm_query=number=INC0010001, the
// link other tools build from a ticket number).
func (u *uiPages) form(w http.ResponseWriter, r *http.Request, table string, s *Session, ls *loginSession) {
	u.showForm(w, u.formRecordID(r, table, s), table, s, ls, http.StatusOK, "", nil)
}

// formRecordID is the sys_id a form URL names, directly or as the first
// record its sysparm_query matches; "" when it names none.
func (u *uiPages) formRecordID(r *http.Request, table string, s *Session) string {
	q := r.URL.Query()
	if id := q.Get("sys_id"); id != "" || q.Get("sysparm_query") == "" {
		return id
	}
	u.in.mu.RLock()
	defer u.in.mu.RUnlock()
	if rows, _ := u.in.selectLocked(u.in.tables[table], q.Get("sysparm_query"), s, 0, 1); len(rows) > 0 {
		return rows[0]["sys_id"]
	}
	return ""
}

type recordPage struct {
	Label, Name string
	Fields      []formField
}

// readOnlyForm shows any other table's record: every field but secrets,
// with its display value.
func (u *uiPages) readOnlyForm(w http.ResponseWriter, r *http.Request, table string, s *Session, _ *loginSession) {
	in := u.in
	id := u.formRecordID(r, table, s)
	in.mu.RLock()
	t := in.tables[table]
	rec, ok := in.getLocked(t, id)
	if !ok {
		in.mu.RUnlock()
		u.errorPage(w, http.StatusNotFound, "Record not found", "Record not found")
		return
	}
	ct := in.classTable(rec)
	page := recordPage{Label: ct.Label, Name: rec[ct.DisplayField]}
	for _, name := range ct.FieldNames() {
		f := ct.Fields[name]
		if f.Type != TypePassword && f.Type != TypePassword2 && f.Type != TypeJournal {
			page.Fields = append(page.Fields, in.formFieldLocked(f, rec, s.Location))
		}
	}
	user := in.userDisplayNameLocked(s.UserName)
	in.mu.RUnlock()
	u.renderAs(w, http.StatusOK, "record.html", pageData{Title: page.Name + " | " + page.Label, User: user, Body: page})
}

// formFieldLocked is a field of rec as a form shows it: references by the
// display value of what they name, other fields by their own.
func (in *Instance) formFieldLocked(f *Field, rec Record, loc *time.Location) formField {
	v := rec[f.Name]
	if f.Type == TypeReference {
		v = in.referenceDisplayLocked(f, v)
	} else {
		v = in.displayValueLocked(f, rec, v, loc)
	}
	return formField{Name: f.Name, Label: f.Label, Value: v}
}

// showForm renders a record form; msg is an error to show, and pending the
// values the user sent that were refused, so they are not lost.
func (u *uiPages) showForm(w http.ResponseWriter, sysID, table string, s *Session, ls *loginSession, status int, msg string, pending url.Values) {
	in := u.in
	in.mu.RLock()
	t := in.tables[table]
	rec, ok := in.getLocked(t, sysID)
	if !ok {
		in.mu.RUnlock()
		u.errorPage(w, http.StatusNotFound, "Record not found", "Record not found")
		return
	}
	spec := uiTables[table]
	labels := closeFieldLabels[table]
	page := formPage{
		Table: table, Label: t.Label, Number: rec["number"], SysID: sysID, Ck: ls.ck, Message: msg,
		Action:         "/" + table + ".do?sys_id=" + url.QueryEscape(sysID),
		CloseNotes:     rec["close_notes"],
		CloseCodeLabel: labels[0], CloseNotesLabel: labels[1],
		DataPolicy:   in.dataPolicy.Load(),
		ResolveLabel: spec.resolveLabel, ResolveVerb: spec.resolveVerb, ResolveID: spec.resolveID,
	}
	state, closeCode := rec["state"], rec["close_code"]
	if pending != nil {
		state, closeCode, page.CloseNotes = pending.Get("state"), pending.Get("close_code"), pending.Get("close_notes")
	}
	for _, name := range spec.fields {
		f := t.Fields[name]
		if f == nil {
			continue
		}
		page.Fields = append(page.Fields, in.formFieldLocked(f, rec, s.Location))
	}
	for _, c := range in.choicesLocked(table, "state") {
		if c["inactive"] != "true" {
			page.States = append(page.States, option{Value: c["value"], Label: c["label"], Selected: c["value"] == state})
		}
	}
	for _, c := range in.choicesLocked(table, "close_code") {
		if c["inactive"] != "true" {
			page.CloseCodes = append(page.CloseCodes, option{Value: c["value"], Label: c["label"], Selected: c["value"] == closeCode})
		}
	}
	ids := in.data["sys_journal_field"].order
	for i := len(ids) - 1; i >= 0; i-- {
		j := in.byID[ids[i]]
		if j["element_id"] != sysID || (j["element"] != "work_notes" && j["element"] != "comments") {
			continue
		}
		page.Journal = append(page.Journal, journalEntry{
			Element: j["element"], FieldLabel: t.Fields[j["element"]].Label,
			When: in.displayValueLocked(t.Fields["sys_created_on"], j, j["sys_created_on"], s.Location),
			Who:  in.userDisplayNameLocked(j["sys_created_by"]), Text: j["value"],
		})
	}
	user := in.userDisplayNameLocked(s.UserName)
	in.mu.RUnlock()
	u.renderAs(w, status, "form.html", pageData{Title: page.Number + " | " + t.Label, User: user, Body: page})
}

func (u *uiPages) submit(w http.ResponseWriter, r *http.Request, table string, s *Session, ls *loginSession) {
	in := u.in
	sysID := r.URL.Query().Get("sys_id")
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, http.StatusBadRequest, "Invalid form", "The form could not be read.")
		return
	}
	f := r.PostForm
	if subtle.ConstantTimeCompare([]byte(f.Get("sysparm_ck")), []byte(ls.ck)) != 1 {
		u.errorPage(w, http.StatusForbidden, "Invalid form token", "The page was out of date. Go back, reload it and try again.")
		return
	}
	if !allowed(s, table, opWrite) {
		u.showForm(w, sysID, table, s, ls, http.StatusForbidden, "Security constraints prevent you from updating this record", f)
		return
	}
	values := map[string]string{}
	for _, name := range []string{"state", "work_notes", "comments", "close_code", "close_notes"} {
		if f.Has(name) {
			values[name] = f.Get(name)
		}
	}
	switch f.Get("sysparm_action") {
	case "update":
	case "resolve":
		values["state"] = uiTables[table].resolveState
		f.Set("state", values["state"])
	default:
		u.errorPage(w, http.StatusBadRequest, "Invalid form", "Choose Update or "+uiTables[table].resolveLabel+".")
		return
	}
	if _, ok := in.Get(table, sysID); !ok {
		u.errorPage(w, http.StatusNotFound, "Record not found", "Record not found")
		return
	}
	if _, err := in.update(s, table, sysID, values, writeOptions{}); err != nil {
		// The platform keeps the form and shows why it was not saved, such
		// as the data policy's message.
		u.showForm(w, sysID, table, s, ls, http.StatusOK, asAPIError(err).Message, f)
		return
	}
	http.Redirect(w, r, "/"+table+".do?sys_id="+url.QueryEscape(sysID), http.StatusSeeOther)
}
