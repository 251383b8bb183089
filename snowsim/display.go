package snowsim

import (
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
	loc            *time.Location
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
	link := ro.baseURL + "/api/now/table/" + f.Ref + "/" + v
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
	}
	return v
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
