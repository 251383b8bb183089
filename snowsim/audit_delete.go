package snowsim

import (
	"encoding/xml"
	"slices"
	"strings"
)

// Deleted records (sys_audit_delete). The platform records every deleted
// record of an audited table there: its table (tablename), its sys_id
// (documentkey), its display value and the whole record as XML (payload),
// from which Restore Deleted Records can bring it back. Deletions from
// tables whose name starts with sys_ are not audited unless the table is
// listed in glide.ui.audit_deleted_tables (t_ConSysTablDelAud.md); every
// other table, incident, change_request and problem among them, is.

// auditDeleteProperty lists the sys_ tables whose deletions are audited.
const auditDeleteProperty = "glide.ui.audit_deleted_tables"

// auditsDeletesLocked reports whether deleting from table is recorded.
func (in *Instance) auditsDeletesLocked(table string) bool {
	if table == "sys_audit_delete" {
		return false
	}
	if !strings.HasPrefix(table, "sys_") {
		return true
	}
	for _, name := range strings.Split(in.propertyLocked(auditDeleteProperty), ",") {
		if strings.TrimSpace(name) == table {
			return true
		}
	}
	return false
}

// recordDeleteLocked writes the sys_audit_delete row of rec, which is about
// to be deleted by s. It returns the insert event of that row.
func (in *Instance) recordDeleteLocked(s *Session, rec Record) []WriteEvent {
	class := rec["sys_class_name"]
	t := in.tables[class]
	if t == nil || !in.auditsDeletesLocked(class) {
		return nil
	}
	display := ""
	if t.DisplayField != "" {
		display = rec[t.DisplayField]
	}
	now := in.clock().Format(timeFormat)
	a := Record{
		"sys_id": newSysID(), "sys_class_name": "sys_audit_delete",
		"sys_created_on": now, "sys_updated_on": now,
		"sys_created_by": s.UserName, "sys_updated_by": s.UserName, "sys_mod_count": "0",
		"tablename": class, "documentkey": rec["sys_id"], "display_value": display,
		"payload": in.deletePayloadLocked(t, rec), "doc_update_count": rec["sys_mod_count"],
	}
	in.byID[a["sys_id"]] = a
	in.data["sys_audit_delete"].add(a)
	in.wroteLocked("sys_audit_delete")
	return []WriteEvent{{Table: "sys_audit_delete", Operation: "insert", Record: a.Clone()}}
}

// deletePayloadLocked is the record as the platform's XML serialisation
// (the unload format of update sets): a record_update element around one
// element named after the table with action="DELETE", holding every field
// in name order, references with their display value as an attribute.
func (in *Instance) deletePayloadLocked(t *Table, rec Record) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><record_update table="` + t.Name + `"><` + t.Name + ` action="DELETE">`)
	names := t.FieldNames()
	slices.Sort(names)
	for _, name := range names {
		f := t.Fields[name]
		v := rec[name]
		switch f.Type {
		case TypeJournal, TypeJournalList:
			continue // journal entries stay in sys_journal_field
		case TypePassword, TypePassword2:
			v = ""
		}
		b.WriteString("<" + name)
		if f.Type == TypeReference && v != "" {
			b.WriteString(` display_value="`)
			_ = xml.EscapeText(&b, []byte(in.referenceDisplayLocked(f, v)))
			b.WriteString(`"`)
		}
		if v == "" {
			b.WriteString("/>")
			continue
		}
		b.WriteString(">")
		_ = xml.EscapeText(&b, []byte(v))
		b.WriteString("</" + name + ">")
	}
	b.WriteString("</" + t.Name + "></record_update>")
	return b.String()
}
