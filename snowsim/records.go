package snowsim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is one row. Every value is a string, as the platform returns them.
type Record map[string]string

// Clone returns a copy that the caller may keep or change.
func (r Record) Clone() Record { return maps.Clone(r) }

// tableData holds one table's own records in insertion order, which is the
// order lists come back in without ORDERBY. order and rows are parallel:
// rows saves a map lookup per record when a query scans a large table.
type tableData struct {
	order []string
	rows  []Record
}

func (d *tableData) add(rec Record) {
	d.order = append(d.order, rec["sys_id"])
	d.rows = append(d.rows, rec)
}

// timeFormat is the platform's date-time format; stored values are UTC.
const timeFormat = "2006-01-02 15:04:05"

func newSysID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isSysID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// writeOptions carry how a client's values are to be read.
type writeOptions struct {
	inputDisplayValue bool // sysparm_input_display_value=true
	// script marks server-side writers (Go methods, seed data), which set
	// passwords the way a script's setDisplayValue does.
	script bool
}

// table returns the table definition or the documented "Invalid table".
func (in *Instance) table(name string) (*Table, *APIError) {
	t, ok := in.tables[name]
	if !ok {
		return nil, errInvalidTable(name)
	}
	return t, nil
}

// classTable returns the definition of the record's own table.
func (in *Instance) classTable(rec Record) *Table {
	return in.tables[rec["sys_class_name"]]
}

// inTable reports whether rec belongs to t or a table extending t.
func (in *Instance) inTable(t *Table, rec Record) bool {
	c := rec["sys_class_name"]
	return c == t.Name || slices.Contains(t.children, c)
}

// getLocked returns the record with sysID visible through table t.
func (in *Instance) getLocked(t *Table, sysID string) (Record, bool) {
	rec, ok := in.byID[sysID]
	if !ok || !in.inTable(t, rec) {
		return nil, false
	}
	return rec, true
}

// scanLocked calls f for every record of t and of the tables extending it,
// table by table in insertion order, until f returns false.
func (in *Instance) scanLocked(t *Table, f func(Record) bool) {
	for _, name := range append([]string{t.Name}, t.children...) {
		for _, r := range in.data[name].rows {
			if !f(r) {
				return
			}
		}
	}
}

// Insert creates a record as the system user, applying the same business
// rules as the Table API. It returns a copy of the stored record.
func (in *Instance) Insert(table string, values map[string]string) (Record, error) {
	rec, err := in.insert(in.systemSession(), table, values, writeOptions{script: true})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Update changes a record as the system user and returns a copy of it.
func (in *Instance) Update(table, sysID string, values map[string]string) (Record, error) {
	rec, err := in.update(in.systemSession(), table, sysID, values, writeOptions{script: true})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Delete removes a record.
func (in *Instance) Delete(table, sysID string) error {
	if err := in.delete(in.systemSession(), table, sysID); err != nil {
		return err
	}
	return nil
}

// Get returns a copy of the record with sysID in table (or a table extending
// it), with raw values. Empty fields may be absent from the map.
func (in *Instance) Get(table, sysID string) (Record, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	t, ok := in.tables[table]
	if !ok {
		return nil, false
	}
	rec, ok := in.getLocked(t, sysID)
	if !ok {
		return nil, false
	}
	return rec.Clone(), true
}

// Query returns copies of the records of table matching an encoded query,
// evaluated in the system time zone.
func (in *Instance) Query(table, encodedQuery string) ([]Record, error) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	t, aerr := in.table(table)
	if aerr != nil {
		return nil, aerr
	}
	rows, _ := in.selectLocked(t, encodedQuery, in.systemSessionLocked(in.systemLocationLocked()), 0, -1)
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = r.Clone()
	}
	return out, nil
}

func (in *Instance) insert(s *Session, table string, values map[string]string, wo writeOptions) (Record, error) {
	return in.commit("insert", func() (Record, []WriteEvent, error) {
		return in.insertLocked(s, table, values, wo)
	})
}

func (in *Instance) update(s *Session, table, sysID string, values map[string]string, wo writeOptions) (Record, error) {
	return in.commit("update", func() (Record, []WriteEvent, error) {
		return in.updateLocked(s, table, sysID, values, wo)
	})
}

func (in *Instance) delete(s *Session, table, sysID string) error {
	_, err := in.commit("delete", func() (Record, []WriteEvent, error) {
		t, aerr := in.table(table)
		if aerr != nil {
			return nil, nil, aerr
		}
		rec, ok := in.getLocked(t, sysID)
		if !ok {
			return nil, nil, errNoRecord()
		}
		caused := in.recordDeleteLocked(s, rec)
		in.deleteLocked(rec)
		caused = append(caused, in.deleteAttachmentsLocked(sysID)...)
		return rec, caused, nil
	})
	return err
}

// commit runs one write under the write lock: write changes the store and
// returns the record it wrote (or deleted) and the other writes it caused
// (journal entries, the deletion audit). Every write is journaled before
// the lock is released, so before any client hears of it, and subscribers
// are told after, outside the lock. It returns a copy of the record.
func (in *Instance) commit(op string, write func() (Record, []WriteEvent, error)) (Record, error) {
	in.mu.Lock()
	rec, caused, err := write()
	var out Record
	var ev []WriteEvent
	if err == nil {
		out = rec.Clone()
		ev = append([]WriteEvent{{Table: out["sys_class_name"], Operation: op, Record: out.Clone()}}, caused...)
		err = in.journalWriteLocked(ev)
	}
	in.mu.Unlock()
	if err != nil {
		return nil, err
	}
	in.notify(ev)
	return out, nil
}

func (in *Instance) deleteLocked(rec Record) {
	id := rec["sys_id"]
	d := in.data[rec["sys_class_name"]]
	if i := slices.Index(d.order, id); i >= 0 {
		d.order = slices.Delete(d.order, i, i+1)
		d.rows = slices.Delete(d.rows, i, i+1)
	}
	delete(in.byID, id)
	in.wroteLocked(rec["sys_class_name"])
}

// insertLocked applies the insert business rules and stores the record. The
// journal events it returns are the sys_journal_field rows it wrote.
func (in *Instance) insertLocked(s *Session, table string, values map[string]string, wo writeOptions) (Record, []WriteEvent, error) {
	t, aerr := in.table(table)
	if aerr != nil {
		return nil, nil, aerr
	}
	now := in.clock().Format(timeFormat)
	// Empty fields are not stored: a missing key reads as "", and smaller
	// maps keep scans of large tables in cache.
	rec := Record{}
	id := values["sys_id"]
	if !isSysID(id) || in.byID[id] != nil {
		id = newSysID()
	}
	rec["sys_id"] = id
	rec["sys_class_name"] = t.Name
	rec["sys_created_on"], rec["sys_updated_on"] = now, now
	rec["sys_created_by"], rec["sys_updated_by"] = s.UserName, s.UserName
	rec["sys_mod_count"] = "0"
	in.applyDefaults(s, t, rec, now)
	journal := in.assignLocked(s, t, rec, values, wo)
	if t.NumberPrefix != "" && values["number"] == "" {
		rec["number"] = in.nextNumberLocked(t)
	}
	in.applyRules(s, t, rec, nil, now)
	if err := in.checkDataPolicy(t, rec); err != nil {
		return nil, nil, err
	}
	in.byID[id] = rec
	in.data[t.Name].add(rec)
	in.wroteLocked(t.Name)
	return rec, in.writeJournalLocked(s, t, rec, journal, now), nil
}

func (in *Instance) updateLocked(s *Session, table, sysID string, values map[string]string, wo writeOptions) (Record, []WriteEvent, error) {
	t, aerr := in.table(table)
	if aerr != nil {
		return nil, nil, aerr
	}
	cur, ok := in.getLocked(t, sysID)
	if !ok {
		return nil, nil, errNoRecord()
	}
	ct := in.classTable(cur)
	now := in.clock().Format(timeFormat)
	rec := cur.Clone()
	journal := in.assignLocked(s, ct, rec, values, wo)
	in.applyRules(s, ct, rec, cur, now)
	if err := in.checkDataPolicy(ct, rec); err != nil {
		return nil, nil, err
	}
	n, _ := strconv.Atoi(cur["sys_mod_count"])
	rec["sys_mod_count"] = strconv.Itoa(n + 1)
	rec["sys_updated_on"] = now
	rec["sys_updated_by"] = s.UserName
	clear(cur)
	maps.Copy(cur, rec)
	in.wroteLocked(ct.Name)
	return cur, in.writeJournalLocked(s, ct, cur, journal, now), nil
}

// assignLocked copies the client's values into rec: known fields only, sys_*
// fields never, values normalised by type. It returns the journal entries to
// write, since those never land in the record itself.
func (in *Instance) assignLocked(s *Session, t *Table, rec Record, values map[string]string, wo writeOptions) map[string]string {
	journal := map[string]string{}
	for name, v := range values {
		f, ok := t.Fields[name]
		if !ok || strings.HasPrefix(name, "sys_") {
			continue
		}
		switch f.Type {
		case TypeJournal:
			if strings.TrimSpace(v) != "" {
				journal[name] = v
			}
			continue
		case TypeBoolean:
			v = normBool(v)
		case TypeInteger, TypeIntChoice:
			if wo.inputDisplayValue && f.Type == TypeIntChoice {
				v = in.choiceValueLocked(t.Name, name, v)
			}
			if v != "" {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					continue // not a number: the platform leaves the field alone
				}
			}
		case TypeChoice:
			if wo.inputDisplayValue {
				v = in.choiceValueLocked(t.Name, name, v)
			}
		case TypeDateTime:
			v = normDateTime(v, wo.inputDisplayValue, s.Location)
		case TypeReference:
			if wo.inputDisplayValue && v != "" {
				v = in.referenceByDisplayLocked(f.Ref, v)
			}
		case TypePassword:
			// A one-way password is hashed only when set as a display value
			// (sysparm_input_display_value=true); otherwise the platform
			// stores the text as the hash itself and the user cannot log in.
			// That text is kept as a digest here, never in clear.
			if wo.inputDisplayValue || wo.script {
				v = hashPassword(v)
			} else if v != "" {
				v = "unhashed$" + HashSecret(v)
			}
		case TypePassword2:
			v = HashSecret(v)
		}
		if f.MaxLen > 0 && utf8.RuneCountInString(v) > f.MaxLen {
			v = string([]rune(v)[:f.MaxLen])
		}
		if v == "" {
			delete(rec, name)
		} else {
			rec[name] = v
		}
	}
	return journal
}

func normBool(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes":
		return "true"
	}
	return "false"
}

// normDateTime reads a date-time the client sent: raw values are UTC, display
// values are in the session user's zone. Unreadable values become empty.
func normDateTime(v string, display bool, loc *time.Location) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	zone := time.UTC
	if display && loc != nil {
		zone = loc
	}
	for _, layout := range []string{timeFormat, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, zone); err == nil {
			return t.UTC().Format(timeFormat)
		}
	}
	return ""
}

// choiceValueLocked maps a choice label to its value; a value that is no
// label is kept as sent.
func (in *Instance) choiceValueLocked(table, element, label string) string {
	for _, c := range in.choicesLocked(table, element) {
		if strings.EqualFold(c["label"], label) {
			return c["value"]
		}
	}
	return label
}

// referenceByDisplayLocked finds the sys_id whose display value is v; a
// sys_id is accepted as is.
func (in *Instance) referenceByDisplayLocked(table, v string) string {
	if isSysID(v) {
		return v
	}
	t, ok := in.tables[table]
	if !ok {
		return v
	}
	found := ""
	in.scanLocked(t, func(r Record) bool {
		if r[t.DisplayField] == v {
			found = r["sys_id"]
			return false
		}
		return true
	})
	return found
}

func (in *Instance) nextNumberLocked(t *Table) string {
	// Extended tables number with their own prefix; the counter is per prefix.
	n := in.counters[t.NumberPrefix]
	if n < t.NumberStart {
		n = t.NumberStart
	}
	n++
	in.counters[t.NumberPrefix] = n
	return fmt.Sprintf("%s%07d", t.NumberPrefix, n)
}

// writeJournalLocked stores journal entries in sys_journal_field, as the
// platform does for work_notes and comments.
func (in *Instance) writeJournalLocked(s *Session, t *Table, rec Record, journal map[string]string, now string) []WriteEvent {
	var events []WriteEvent
	for _, element := range slices.Sorted(maps.Keys(journal)) {
		j := Record{}
		id := newSysID()
		j["sys_id"] = id
		j["sys_class_name"] = "sys_journal_field"
		j["sys_created_on"], j["sys_updated_on"] = now, now
		j["sys_created_by"], j["sys_updated_by"] = s.UserName, s.UserName
		j["sys_mod_count"] = "0"
		j["element"] = element
		j["element_id"] = rec["sys_id"]
		j["name"] = t.Name
		j["value"] = journal[element]
		in.byID[id] = j
		in.data["sys_journal_field"].add(j)
		events = append(events, WriteEvent{Table: "sys_journal_field", Operation: "insert", Record: j.Clone()})
	}
	if len(events) > 0 {
		in.version++
	}
	return events
}

// journalLocked returns the journal entries of one field of a record, newest
// first.
func (in *Instance) journalLocked(sysID, element string) []Record {
	var out []Record
	ids := in.data["sys_journal_field"].order
	for i := len(ids) - 1; i >= 0; i-- {
		j := in.byID[ids[i]]
		if j["element_id"] == sysID && j["element"] == element {
			out = append(out, j)
		}
	}
	return out
}

// choicesLocked returns the sys_choice rows of table.element, falling back to
// the parent table's list the way the platform does for inherited fields.
func (in *Instance) choicesLocked(table, element string) []Record {
	idx := in.choiceIndexLocked()
	for t := in.tables[table]; t != nil; t = in.tables[t.Extends] {
		if out := idx[t.Name+"."+element]; len(out) > 0 {
			return out
		}
		if t.Extends == "" {
			break
		}
	}
	return nil
}

// choiceIndex is sys_choice by "table.element", built for one choiceVersion.
type choiceIndex struct {
	version uint64
	lists   map[string][]Record
}

// choiceIndexLocked returns the index of sys_choice, rebuilding it when a
// choice changed since it was built. Rendering a list reads several choice
// fields per record, which would otherwise scan sys_choice each time.
// Callers hold in.mu (read or write), so choiceVersion cannot move meanwhile;
// two readers may both rebuild, which is harmless.
func (in *Instance) choiceIndexLocked() map[string][]Record {
	if c := in.choiceCache.Load(); c != nil && c.version == in.choiceVersion {
		return c.lists
	}
	lists := map[string][]Record{}
	for _, c := range in.data["sys_choice"].rows {
		k := c["name"] + "." + c["element"]
		lists[k] = append(lists[k], c)
	}
	in.choiceCache.Store(&choiceIndex{version: in.choiceVersion, lists: lists})
	return lists
}

// wroteLocked notes a write to a table whose derived state is cached.
func (in *Instance) wroteLocked(class string) {
	in.version++
	if class == "sys_choice" {
		in.choiceVersion++
	}
}

// propertyLocked returns a sys_properties value, "" when unset.
func (in *Instance) propertyLocked(name string) string {
	for _, id := range in.data["sys_properties"].order {
		p := in.byID[id]
		if p["name"] == name {
			return p["value"]
		}
	}
	return ""
}

// Property returns the value of a system property, "" when unset.
func (in *Instance) Property(name string) string {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.propertyLocked(name)
}

// statusErr is a convenience for handlers that need an *APIError from error.
func asAPIError(err error) *APIError {
	if ae, ok := err.(*APIError); ok {
		return ae
	}
	return &APIError{Status: http.StatusInternalServerError, Message: "Internal error"}
}
