package snowsim

import (
	"strconv"
	"strings"
	"time"
)

// How values render with sysparm_display_value false|true|all and
// sysparm_exclude_reference_link (c_TableAPI.md):
//   false: raw values; references {"link","value"}
//   true:  display values; references {"display_value","link"}
//   all:   {"display_value","value"}; references {"display_value","link","value"}
// With sysparm_exclude_reference_link the link is left out and a reference in
// false/true mode is a plain string. An empty reference is "".

// Display modes.
const (
	displayFalse = "false"
	displayTrue  = "true"
	displayAll   = "all"
)

type renderOptions struct {
	display        string
	excludeRefLink bool
	fields         []string // nil: every field of the table
	baseURL        string
	// tablePath is the Table API path of the request's version
	// ("/api/now/v2/table/"), which reference links repeat.
	tablePath string
	loc       *time.Location
}

func parseDisplayMode(v string) string {
	switch strings.ToLower(v) {
	case "true":
		return displayTrue
	case "all":
		return displayAll
	}
	return displayFalse
}

// renderLocked renders rec as seen through table t.
func (in *Instance) renderLocked(t *Table, rec Record, ro renderOptions) map[string]any {
	out := map[string]any{}
	if ro.fields == nil {
		for name, f := range t.Fields {
			out[name] = in.renderValueLocked(f, rec, rec[name], ro)
		}
		return out
	}
	for _, name := range ro.fields {
		path := in.resolvePath(t, name)
		if path == nil {
			continue // unknown names are ignored
		}
		// A dot-walked field is rendered as its last field, under the
		// literal dotted key.
		owner := rec
		for _, f := range path[:len(path)-1] {
			if owner = in.byID[owner[f.Name]]; owner == nil {
				break
			}
		}
		f := path[len(path)-1]
		if owner == nil {
			out[name] = in.renderValueLocked(f, Record{}, "", ro)
			continue
		}
		out[name] = in.renderValueLocked(f, owner, owner[f.Name], ro)
	}
	return out
}

func (in *Instance) renderValueLocked(f *Field, rec Record, v string, ro renderOptions) any {
	switch f.Type {
	case TypePassword, TypePassword2:
		// Secrets are stored as digests and never rendered.
		v = ""
	case TypeReference:
		return in.renderReferenceLocked(f, v, ro)
	}
	if ro.display == displayFalse {
		return v
	}
	dv := in.displayValueLocked(f, rec, v, ro.loc)
	if ro.display == displayTrue {
		return dv
	}
	return map[string]string{"display_value": dv, "value": v}
}

func (in *Instance) renderReferenceLocked(f *Field, v string, ro renderOptions) any {
	if v == "" {
		if ro.display == displayAll {
			return map[string]string{"display_value": "", "value": ""}
		}
		return ""
	}
	tablePath := ro.tablePath
	if tablePath == "" {
		tablePath = "/api/now/table/"
	}
	link := ro.baseURL + tablePath + f.Ref + "/" + v
	switch ro.display {
	case displayTrue:
		dv := in.referenceDisplayLocked(f, v)
		if ro.excludeRefLink {
			return dv
		}
		return map[string]string{"display_value": dv, "link": link}
	case displayAll:
		dv := in.referenceDisplayLocked(f, v)
		if ro.excludeRefLink {
			return map[string]string{"display_value": dv, "value": v}
		}
		return map[string]string{"display_value": dv, "link": link, "value": v}
	}
	if ro.excludeRefLink {
		return v
	}
	return map[string]string{"link": link, "value": v}
}

// referenceDisplayLocked returns the display value of the record a reference
// points to, "" when it points nowhere.
func (in *Instance) referenceDisplayLocked(f *Field, v string) string {
	target := in.byID[v]
	if target == nil {
		if v == "global" {
			return "global" // the global domain has no record but displays by name
		}
		return ""
	}
	t := in.classTable(target)
	if t == nil || t.DisplayField == "" {
		return v
	}
	df := t.Fields[t.DisplayField]
	if df.Type == TypeReference {
		if inner := in.byID[target[df.Name]]; inner != nil {
			it := in.classTable(inner)
			return inner[it.DisplayField]
		}
		return ""
	}
	return target[t.DisplayField]
}

// displayValueLocked returns the display value of a non-reference field.
func (in *Instance) displayValueLocked(f *Field, rec Record, v string, loc *time.Location) string {
	switch f.Type {
	case TypeChoice, TypeIntChoice:
		if v == "" {
			return ""
		}
		table := rec["sys_class_name"]
		for _, c := range in.choicesLocked(table, f.Name) {
			if c["value"] == v {
				return c["label"]
			}
		}
		return v
	case TypeDateTime:
		if v == "" {
			return ""
		}
		t, err := time.ParseInLocation(timeFormat, v, time.UTC)
		if err != nil {
			return v
		}
		if loc == nil {
			loc = time.UTC
		}
		return t.In(loc).Format(timeFormat)
	case TypeJournal:
		return in.journalDisplayLocked(rec, f, loc)
	case TypeJournalList:
		// comments_and_work_notes shows both journals, newest first.
		return in.journalListDisplayLocked(rec, loc)
	case TypeClassName:
		return in.classDisplayLocked(rec, v)
	case TypeGlideList:
		return in.listDisplayLocked(f, v)
	case TypeDuration:
		return durationDisplay(v)
	}
	return v
}

// classDisplayLocked is the display value of sys_class_name: its label in
// the sys_choice list of the class field (task.sys_class_name on a fresh
// instance), else the table's label.
func (in *Instance) classDisplayLocked(rec Record, v string) string {
	if v == "" {
		return ""
	}
	for _, c := range in.choicesLocked(rec["sys_class_name"], "sys_class_name") {
		if c["value"] == v {
			return c["label"]
		}
	}
	if t := in.tables[v]; t != nil {
		return t.Label
	}
	return v
}

// listDisplayLocked renders a glide_list: the display values of its
// references, separated by ", "; entries that are no sys_id (e-mail
// addresses in a watch list) show as they are.
func (in *Instance) listDisplayLocked(f *Field, v string) string {
	if v == "" {
		return ""
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if dv := in.referenceDisplayLocked(f, p); dv != "" {
			p = dv
		}
		parts[i] = p
	}
	return strings.Join(parts, ", ")
}

// durationDisplay renders a glide_duration ("1970-01-02 03:04:00") the way
// a form shows it: "1 Day 3 Hours 4 Minutes".
func durationDisplay(v string) string {
	if v == "" {
		return ""
	}
	t, err := time.ParseInLocation(timeFormat, v, time.UTC)
	if err != nil {
		return v
	}
	secs := int64(t.Sub(time.Unix(0, 0).UTC()) / time.Second)
	if secs <= 0 {
		return ""
	}
	var parts []string
	for _, u := range []struct {
		n    int64
		name string
	}{{86400, "Day"}, {3600, "Hour"}, {60, "Minute"}, {1, "Second"}} {
		if q := secs / u.n; q > 0 {
			name := u.name
			if q > 1 {
				name += "s"
			}
			parts = append(parts, strconv.FormatInt(q, 10)+" "+name)
			secs -= q * u.n
		}
	}
	return strings.Join(parts, " ")
}

// journalListDisplayLocked merges the comments and work notes of a record,
// newest first, each headed like journalDisplayLocked's entries.
func (in *Instance) journalListDisplayLocked(rec Record, loc *time.Location) string {
	t := in.classTable(rec)
	if t == nil {
		return ""
	}
	var b strings.Builder
	ids := in.data["sys_journal_field"].order
	for i := len(ids) - 1; i >= 0; i-- {
		j := in.byID[ids[i]]
		if j["element_id"] != rec["sys_id"] || (j["element"] != "comments" && j["element"] != "work_notes") {
			continue
		}
		label := j["element"]
		if f := t.Fields[j["element"]]; f != nil {
			label = f.Label
		}
		when := j["sys_created_on"]
		if ts, err := time.ParseInLocation(timeFormat, when, time.UTC); err == nil && loc != nil {
			when = ts.In(loc).Format(timeFormat)
		}
		b.WriteString(when + " - " + in.userDisplayNameLocked(j["sys_created_by"]) + " (" + label + ")\n" + j["value"] + "\n\n")
	}
	return b.String()
}

// journalDisplayLocked renders a journal field the way the platform shows it:
// newest entry first, each headed by its time, author and field label.
func (in *Instance) journalDisplayLocked(rec Record, f *Field, loc *time.Location) string {
	var b strings.Builder
	for _, j := range in.journalLocked(rec["sys_id"], f.Name) {
		when := j["sys_created_on"]
		if t, err := time.ParseInLocation(timeFormat, when, time.UTC); err == nil && loc != nil {
			when = t.In(loc).Format(timeFormat)
		}
		b.WriteString(when + " - " + in.userDisplayNameLocked(j["sys_created_by"]) + " (" + f.Label + ")\n" + j["value"] + "\n\n")
	}
	return b.String()
}

func (in *Instance) userDisplayNameLocked(userName string) string {
	if u := in.userByNameLocked(userName); u != nil && u["name"] != "" {
		return u["name"]
	}
	return userName
}
