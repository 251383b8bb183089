package snowsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The Import Set API (c_ImportSetAPI.md):
//
//	POST /api/now/[v1/|v2/]import/{stagingTableName}                 one row, transformed at once
//	POST /api/now/[v1/|v2/]import/{stagingTableName}/insertMultiple  {"records":[...]} keyed by column label or name
//	GET  /api/now/[v1/|v2/]import/{stagingTableName}/{sys_id}        a row and its transform result
//
// A fresh simulator has one staging table, u_scorebridge_incident_import,
// with the transform map "ScoreBridge Incident" onto incident that
// coalesces on the correlation ID: a row whose correlation ID names an
// existing incident updates it ("updated", or "ignored" when nothing
// changes), any other row inserts one ("inserted"); a row the target
// refuses (the data policy) is "error" with the reason in status_message.
// The transform reads sys_transform_map and sys_transform_entry, so a
// changed field map changes what it does.
//
// Rows posted one at a time go to the staging table's open import set, as
// web service import sets do; each insertMultiple makes an import set of
// its own in a multi import set and answers their sys_ids. The platform
// transforms insertMultiple asynchronously by default; here the transform
// has run by the time the answer is sent, which a client that polls cannot
// tell apart.

const importTable = "u_scorebridge_incident_import"

// seedImportSets adds the staging table's transform map onto incident.
func (in *Instance) seedImportSets(must func(string, map[string]string) Record) {
	m := must("sys_transform_map", map[string]string{"name": "ScoreBridge Incident", "source_table": importTable,
		"target_table": "incident", "active": "true", "order": "100"})
	for _, e := range [][2]string{
		{"u_short_description", "short_description"}, {"u_description", "description"}, {"u_impact", "impact"},
		{"u_urgency", "urgency"}, {"u_category", "category"}, {"u_state", "state"}, {"u_caller", "caller_id"},
		{"u_assignment_group", "assignment_group"}, {"u_correlation_id", "correlation_id"}, {"u_correlation_display", "correlation_display"},
	} {
		must("sys_transform_entry", map[string]string{"map": m["sys_id"], "source_field": e[0], "target_field": e[1],
			"coalesce": strconv.FormatBool(e[1] == "correlation_id")})
	}
}

func (in *Instance) importRoutes() {
	for _, prefix := range []string{"/api/now/import/", "/api/now/v1/import/", "/api/now/v2/import/"} {
		in.mux.Handle(prefix+"{staging}", in.api(methods(map[string]apiHandler{http.MethodPost: in.importInsert})))
		in.mux.Handle(prefix+"{staging}/insertMultiple", in.api(methods(map[string]apiHandler{http.MethodPost: in.importMultiple})))
		in.mux.Handle(prefix+"{staging}/{sys_id}", in.api(methods(map[string]apiHandler{http.MethodGet: in.importGet})))
	}
}

// stagingTable returns the staging table name, which must extend
// sys_import_set_row, once s may perform op on it.
func (in *Instance) stagingTable(s *Session, name, op string) (*Table, *APIError) {
	t, ok := in.tables[name]
	if !ok || t.Extends != "sys_import_set_row" {
		return nil, errInvalidTable(name)
	}
	if aerr := in.authorize(s, name, op, false); aerr != nil {
		return nil, aerr
	}
	return t, nil
}

// importOutcome is what the transform did with one row.
type importOutcome struct {
	row, set, target, mapName string
	targetTable, status, msg  string
}

func (in *Instance) importInsert(w http.ResponseWriter, r *http.Request, s *Session) {
	t, refusal := in.stagingTable(s, r.PathValue("staging"), opCreate)
	values, ok := in.checkedBody(w, r, refusal)
	if !ok {
		return
	}
	var out importOutcome
	_, err := in.commit("insert", func() (Record, []WriteEvent, error) {
		set, caused := in.openImportSetLocked(s, t.Name)
		row, more := in.importRowLocked(s, t, set, values, 0, &out)
		return row, append(caused, more...), nil
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	in.writeImportResult(w, r, http.StatusCreated, t.Name, out)
}

// openImportSetLocked returns the staging table's open import set, making
// one when there is none; the events are the new set's insert.
func (in *Instance) openImportSetLocked(s *Session, table string) (Record, []WriteEvent) {
	for _, set := range in.data["sys_import_set"].rows {
		if set["table_name"] == table && set["state"] == "loading" {
			return set, nil
		}
	}
	set, _, _ := in.insertLocked(s, "sys_import_set", map[string]string{"table_name": table, "state": "loading", "mode": "synchronous"}, writeOptions{script: true})
	return set, []WriteEvent{{Table: "sys_import_set", Operation: "insert", Record: set.Clone()}}
}

// importRowLocked stores one staging row of set and transforms it,
// filling out; the events are the target's writes.
func (in *Instance) importRowLocked(s *Session, t *Table, set Record, values map[string]string, n int, out *importOutcome) (Record, []WriteEvent) {
	row, _, _ := in.insertLocked(s, t.Name, values, writeOptions{script: true})
	// sys_ fields, which no client write sets.
	row["sys_import_set"], row["sys_import_row"] = set["sys_id"], strconv.Itoa(n)
	*out = importOutcome{row: row["sys_id"], set: set["number"]}
	events := in.transformLocked(s, t, row, out)
	row["sys_import_state"], row["sys_import_state_comment"] = out.status, out.msg
	row["sys_target_table"], row["sys_target_sys_id"] = out.targetTable, out.target
	return row, events
}

// transformLocked runs the first active transform map of the row's table.
func (in *Instance) transformLocked(s *Session, t *Table, row Record, out *importOutcome) []WriteEvent {
	var tm Record
	for _, m := range in.data["sys_transform_map"].rows {
		if m["source_table"] == t.Name && m["active"] != "false" && (tm == nil || atoiOr(m["order"]) < atoiOr(tm["order"])) {
			tm = m
		}
	}
	if tm == nil {
		out.status, out.msg = "error", "No transform map for "+t.Name
		return nil
	}
	row["sys_transform_map"] = tm["sys_id"]
	out.mapName, out.targetTable = tm["name"], tm["target_table"]
	target, ok := in.tables[tm["target_table"]]
	if !ok {
		out.status, out.msg = "error", "Invalid target table "+tm["target_table"]
		return nil
	}
	values, coalesce := map[string]string{}, map[string]string{}
	for _, e := range in.data["sys_transform_entry"].rows {
		f := target.Fields[e["target_field"]]
		v := row[e["source_field"]]
		if e["map"] != tm["sys_id"] || f == nil || v == "" {
			continue
		}
		if f.Type == TypeReference {
			// A transform resolves references by display value, and users
			// by user name as well.
			if id := in.referenceByDisplayLocked(f.Ref, v); id != "" {
				v = id
			} else if u := in.userByNameLocked(v); u != nil && f.Ref == "sys_user" {
				v = u["sys_id"]
			}
		}
		values[f.Name] = v
		if e["coalesce"] == "true" {
			coalesce[f.Name] = v
		}
	}
	if existing := in.coalesceLocked(target, coalesce); existing != nil {
		out.target = existing["sys_id"]
		if unchanged(existing, values) {
			out.status = "ignored"
			return nil
		}
		rec, journal, err := in.updateLocked(s, target.Name, existing["sys_id"], values, writeOptions{})
		if err != nil {
			out.status, out.msg = "error", asAPIError(err).Message
			return nil
		}
		out.status = "updated"
		return append([]WriteEvent{{Table: rec["sys_class_name"], Operation: "update", Record: rec.Clone()}}, journal...)
	}
	rec, journal, err := in.insertLocked(s, target.Name, values, writeOptions{})
	if err != nil {
		out.status, out.msg = "error", asAPIError(err).Message
		return nil
	}
	out.status, out.target = "inserted", rec["sys_id"]
	return append([]WriteEvent{{Table: rec["sys_class_name"], Operation: "insert", Record: rec.Clone()}}, journal...)
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// coalesceLocked finds the target record whose coalesce fields all hold
// the row's values; without coalesce values there is none.
func (in *Instance) coalesceLocked(t *Table, coalesce map[string]string) Record {
	if len(coalesce) == 0 {
		return nil
	}
	var found Record
	in.scanLocked(t, func(r Record) bool {
		for k, v := range coalesce {
			if r[k] != v {
				return true
			}
		}
		found = r
		return false
	})
	return found
}

// unchanged reports whether writing values would leave rec as it is.
func unchanged(rec Record, values map[string]string) bool {
	for k, v := range values {
		if rec[k] != v {
			return false
		}
	}
	return true
}

// writeImportResult answers as the documentation's examples: the import
// set, the staging table and the transform's result.
func (in *Instance) writeImportResult(w http.ResponseWriter, r *http.Request, status int, staging string, out importOutcome) {
	res := map[string]any{"transform_map": out.mapName, "table": out.targetTable, "status": out.status, "sys_id": out.target,
		"display_name": "", "display_value": "", "record_link": ""}
	in.mu.RLock()
	if t, ok := in.tables[out.targetTable]; ok {
		res["display_name"] = t.DisplayField
		if rec, ok := in.getLocked(t, out.target); ok {
			res["display_value"] = rec[t.DisplayField]
			res["record_link"] = in.baseURL(r) + versionedTablePath(r.URL.Path) + t.Name + "/" + out.target
		}
	}
	in.mu.RUnlock()
	if out.msg != "" {
		res["status_message"] = out.msg
	}
	writeJSON(w, status, map[string]any{"import_set": out.set, "staging_table": staging, "result": []any{res}})
}

func (in *Instance) importGet(w http.ResponseWriter, r *http.Request, s *Session) {
	in.mu.RLock()
	t, aerr := in.stagingTable(s, r.PathValue("staging"), opRead)
	var out importOutcome
	if aerr == nil {
		row, ok := in.getLocked(t, r.PathValue("sys_id"))
		if !ok {
			aerr = errNoRecord()
		} else {
			out = importOutcome{row: row["sys_id"], target: row["sys_target_sys_id"], targetTable: row["sys_target_table"],
				status: row["sys_import_state"], msg: row["sys_import_state_comment"]}
			if set := in.byID[row["sys_import_set"]]; set != nil {
				out.set = set["number"]
			}
			if m := in.byID[row["sys_transform_map"]]; m != nil {
				out.mapName = m["name"]
			}
		}
	}
	in.mu.RUnlock()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	in.writeImportResult(w, r, http.StatusOK, t.Name, out)
}

// importMultiple loads {"records":[...]} into an import set of its own,
// keys being column labels (the default) or column names.
func (in *Instance) importMultiple(w http.ResponseWriter, r *http.Request, s *Session) {
	t, aerr := in.stagingTable(s, r.PathValue("staging"), opCreate)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	raw, aerr := in.readPayload(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	var body struct {
		Records []map[string]any `json:"records"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body.Records == nil {
		writeError(w, errBadJSON(`The payload must be {"records":[{...}, ...]}`))
		return
	}
	byLabel := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(t.Fields)) {
		byLabel[strings.ToLower(t.Fields[name].Label)] = name
	}
	var setID, multiID string
	_, err := in.commit("insert", func() (Record, []WriteEvent, error) {
		multi, _, _ := in.insertLocked(s, "sys_multi_import_set", map[string]string{"state": "complete"}, writeOptions{script: true})
		set, _, _ := in.insertLocked(s, "sys_import_set", map[string]string{"table_name": t.Name, "state": "processed",
			"mode": "asynchronous", "multi_import_set": multi["sys_id"]}, writeOptions{script: true})
		setID, multiID = set["sys_id"], multi["sys_id"]
		events := []WriteEvent{{Table: "sys_import_set", Operation: "insert", Record: set.Clone()}}
		for i, rec := range body.Records {
			values := map[string]string{}
			for k, v := range rec {
				name := k
				if _, ok := t.Fields[k]; !ok {
					name = byLabel[strings.ToLower(k)]
				}
				values[name] = fieldText(v)
			}
			var out importOutcome
			row, more := in.importRowLocked(s, t, set, values, i, &out)
			events = append(append(events, WriteEvent{Table: t.Name, Operation: "insert", Record: row.Clone()}), more...)
		}
		return multi, events, nil
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"import_set_id": setID, "multi_import_set_id": multiID})
}
