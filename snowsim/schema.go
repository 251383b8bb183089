package snowsim

import "sort"

// FieldType is the platform type of a column; it decides how values are
// compared in queries and rendered in display mode.
type FieldType int

// Field types the simulator knows.
const (
	TypeString    FieldType = iota
	TypeInteger             // compared numerically (state, priority, sys_mod_count)
	TypeBoolean             // "true" / "false"
	TypeDateTime            // stored UTC "2006-01-02 15:04:05"
	TypeReference           // holds a sys_id of Field.Ref
	TypeChoice              // string choice with labels in sys_choice
	TypeIntChoice           // integer choice with labels in sys_choice (state, impact)
	TypeJournal             // write-only through the table; entries live in sys_journal_field
	TypePassword            // one-way hashed (sys_user.user_password)
	TypePassword2           // stored as a digest, never rendered (client secrets, tokens)
	TypeSysID               // GUID
)

// Field describes one column.
type Field struct {
	Name   string
	Label  string
	Type   FieldType
	Ref    string // referenced table for TypeReference
	MaxLen int    // silently truncated on write when > 0
}

func (f *Field) numeric() bool { return f.Type == TypeInteger || f.Type == TypeIntChoice }

// Table describes one table. Extended tables (incident extends task) inherit
// the parent's fields and are visible through the parent's Table API.
type Table struct {
	Name         string
	Label        string
	Extends      string
	NumberPrefix string // "" when the table has no number field
	NumberStart  int    // first number is NumberStart+1
	DisplayField string // the field used as display value of a reference
	Fields       map[string]*Field
	children     []string // tables that extend this one, directly or not
}

// FieldNames returns the table's column names in a stable order.
func (t *Table) FieldNames() []string {
	names := make([]string, 0, len(t.Fields))
	for n := range t.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sysFields() []*Field {
	return []*Field{
		{Name: "sys_id", Label: "Sys ID", Type: TypeSysID},
		{Name: "sys_created_on", Label: "Created", Type: TypeDateTime},
		{Name: "sys_created_by", Label: "Created by"},
		{Name: "sys_updated_on", Label: "Updated", Type: TypeDateTime},
		{Name: "sys_updated_by", Label: "Updated by"},
		{Name: "sys_mod_count", Label: "Updates", Type: TypeInteger},
		{Name: "sys_class_name", Label: "Class"},
		{Name: "sys_tags", Label: "Tags"},
	}
}

func taskFields() []*Field {
	return []*Field{
		{Name: "number", Label: "Number", MaxLen: 40},
		{Name: "short_description", Label: "Short description", MaxLen: 160},
		{Name: "description", Label: "Description", MaxLen: 4000},
		{Name: "priority", Label: "Priority", Type: TypeIntChoice},
		{Name: "impact", Label: "Impact", Type: TypeIntChoice},
		{Name: "urgency", Label: "Urgency", Type: TypeIntChoice},
		{Name: "state", Label: "State", Type: TypeIntChoice},
		{Name: "active", Label: "Active", Type: TypeBoolean},
		{Name: "opened_at", Label: "Opened", Type: TypeDateTime},
		{Name: "opened_by", Label: "Opened by", Type: TypeReference, Ref: "sys_user"},
		{Name: "closed_at", Label: "Closed", Type: TypeDateTime},
		{Name: "closed_by", Label: "Closed by", Type: TypeReference, Ref: "sys_user"},
		{Name: "assignment_group", Label: "Assignment group", Type: TypeReference, Ref: "sys_user_group"},
		{Name: "assigned_to", Label: "Assigned to", Type: TypeReference, Ref: "sys_user"},
		{Name: "due_date", Label: "Due date", Type: TypeDateTime},
		{Name: "close_code", Label: "Close code", Type: TypeChoice},
		{Name: "close_notes", Label: "Close notes", MaxLen: 4000},
		{Name: "work_notes", Label: "Work notes", Type: TypeJournal},
		{Name: "comments", Label: "Additional comments", Type: TypeJournal},
		{Name: "correlation_id", Label: "Correlation ID", MaxLen: 100},
		{Name: "correlation_display", Label: "Correlation display", MaxLen: 100},
		{Name: "parent", Label: "Parent", Type: TypeReference, Ref: "task"},
		{Name: "watch_list", Label: "Watch list"},
		{Name: "upon_approval", Label: "Upon approval", Type: TypeChoice},
		{Name: "approval", Label: "Approval", Type: TypeChoice},
		{Name: "made_sla", Label: "Made SLA", Type: TypeBoolean},
		{Name: "escalation", Label: "Escalation", Type: TypeIntChoice},
		{Name: "contact_type", Label: "Contact type", Type: TypeChoice},
		{Name: "location", Label: "Location"},
		{Name: "company", Label: "Company"},
		{Name: "knowledge", Label: "Knowledge", Type: TypeBoolean},
		{Name: "order", Label: "Order", Type: TypeInteger},
		{Name: "sys_domain", Label: "Domain", Type: TypeReference, Ref: "sys_user_group"},
	}
}

// schemaDefs is the catalogue of tables of a fresh instance, as far as the
// simulator models them.
func schemaDefs() map[string]*Table {
	defs := []struct {
		t      *Table
		fields []*Field
	}{
		{&Table{Name: "task", Label: "Task", NumberPrefix: "TASK", NumberStart: 10000, DisplayField: "number"}, taskFields()},
		{&Table{Name: "incident", Label: "Incident", Extends: "task", NumberPrefix: "INC", NumberStart: 10000, DisplayField: "number"}, []*Field{
			{Name: "caller_id", Label: "Caller", Type: TypeReference, Ref: "sys_user"},
			{Name: "category", Label: "Category", Type: TypeChoice},
			{Name: "subcategory", Label: "Subcategory", Type: TypeChoice},
			{Name: "incident_state", Label: "Incident state", Type: TypeIntChoice},
			{Name: "hold_reason", Label: "On hold reason", Type: TypeIntChoice},
			{Name: "severity", Label: "Severity", Type: TypeIntChoice},
			{Name: "resolved_at", Label: "Resolved", Type: TypeDateTime},
			{Name: "resolved_by", Label: "Resolved by", Type: TypeReference, Ref: "sys_user"},
			{Name: "reopen_count", Label: "Reopen count", Type: TypeInteger},
			{Name: "cmdb_ci", Label: "Configuration item"},
		}},
		{&Table{Name: "change_request", Label: "Change Request", Extends: "task", NumberPrefix: "CHG", NumberStart: 30000, DisplayField: "number"}, []*Field{
			{Name: "type", Label: "Type", Type: TypeChoice},
			{Name: "category", Label: "Category", Type: TypeChoice},
			{Name: "risk", Label: "Risk", Type: TypeIntChoice},
			{Name: "requested_by", Label: "Requested by", Type: TypeReference, Ref: "sys_user"},
			{Name: "start_date", Label: "Planned start date", Type: TypeDateTime},
			{Name: "end_date", Label: "Planned end date", Type: TypeDateTime},
			{Name: "implementation_plan", Label: "Implementation plan", MaxLen: 4000},
			{Name: "backout_plan", Label: "Backout plan", MaxLen: 4000},
			{Name: "test_plan", Label: "Test plan", MaxLen: 4000},
			{Name: "justification", Label: "Justification", MaxLen: 4000},
			{Name: "reason", Label: "Reason"},
			{Name: "cmdb_ci", Label: "Configuration item"},
		}},
		{&Table{Name: "sys_user", Label: "User", DisplayField: "name"}, []*Field{
			{Name: "user_name", Label: "User ID", MaxLen: 40},
			{Name: "first_name", Label: "First name", MaxLen: 50},
			{Name: "last_name", Label: "Last name", MaxLen: 50},
			{Name: "name", Label: "Name", MaxLen: 151},
			{Name: "email", Label: "Email", MaxLen: 100},
			{Name: "title", Label: "Title", MaxLen: 60},
			{Name: "active", Label: "Active", Type: TypeBoolean},
			{Name: "locked_out", Label: "Locked out", Type: TypeBoolean},
			{Name: "time_zone", Label: "Time zone", Type: TypeChoice},
			{Name: "user_password", Label: "Password", Type: TypePassword},
			{Name: "web_service_access_only", Label: "Web service access only", Type: TypeBoolean},
			{Name: "internal_integration_user", Label: "Internal Integration User", Type: TypeBoolean},
			{Name: "department", Label: "Department"},
			{Name: "manager", Label: "Manager", Type: TypeReference, Ref: "sys_user"},
		}},
		{&Table{Name: "sys_user_group", Label: "Group", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 80},
			{Name: "description", Label: "Description", MaxLen: 1000},
			{Name: "manager", Label: "Manager", Type: TypeReference, Ref: "sys_user"},
			{Name: "email", Label: "Group email", MaxLen: 100},
			{Name: "active", Label: "Active", Type: TypeBoolean},
			{Name: "type", Label: "Type"},
		}},
		{&Table{Name: "sys_user_role", Label: "Role", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 100},
			{Name: "description", Label: "Description", MaxLen: 1000},
			{Name: "elevated_privilege", Label: "Elevated privilege", Type: TypeBoolean},
			{Name: "suffix", Label: "Suffix", MaxLen: 100},
		}},
		{&Table{Name: "sys_user_has_role", Label: "User Role", DisplayField: "role"}, []*Field{
			{Name: "user", Label: "User", Type: TypeReference, Ref: "sys_user"},
			{Name: "role", Label: "Role", Type: TypeReference, Ref: "sys_user_role"},
			{Name: "state", Label: "State", Type: TypeChoice},
			{Name: "inherited", Label: "Inherited", Type: TypeBoolean},
			{Name: "granted_by", Label: "Granted by", Type: TypeReference, Ref: "sys_user_group"},
		}},
		{&Table{Name: "oauth_entity", Label: "Application Registry", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 100},
			{Name: "client_id", Label: "Client ID", MaxLen: 100},
			{Name: "client_secret", Label: "Client Secret", Type: TypePassword2},
			{Name: "redirect_url", Label: "Redirect URL", MaxLen: 1000},
			{Name: "logo_url", Label: "Logo URL", MaxLen: 1000},
			{Name: "type", Label: "Type", Type: TypeChoice},
			{Name: "active", Label: "Active", Type: TypeBoolean},
			{Name: "access_token_lifespan", Label: "Access Token Lifespan", Type: TypeInteger},
			{Name: "refresh_token_lifespan", Label: "Refresh Token Lifespan", Type: TypeInteger},
			{Name: "default_grant_type", Label: "Default Grant type", Type: TypeChoice},
			{Name: "public_client", Label: "Public Client", Type: TypeBoolean},
			{Name: "enforce_token_restriction", Label: "Enforce Token Restrictions", Type: TypeBoolean},
			{Name: "comments", Label: "Comments", MaxLen: 4000},
		}},
		{&Table{Name: "oauth_credential", Label: "OAuth Credential", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 100},
			{Name: "token", Label: "Token", Type: TypePassword2},
			{Name: "type", Label: "Type", Type: TypeChoice},
			{Name: "peer", Label: "Application", Type: TypeReference, Ref: "oauth_entity"},
			{Name: "user", Label: "User", Type: TypeReference, Ref: "sys_user"},
			{Name: "expires", Label: "Expires", Type: TypeDateTime},
			{Name: "scopes", Label: "Scopes", MaxLen: 1000},
			{Name: "parent", Label: "Parent", MaxLen: 32},
		}},
		{&Table{Name: "sys_choice", Label: "Choices", DisplayField: "label"}, []*Field{
			{Name: "name", Label: "Table", MaxLen: 80},
			{Name: "element", Label: "Element", MaxLen: 80},
			{Name: "value", Label: "Value", MaxLen: 100},
			{Name: "label", Label: "Label", MaxLen: 100},
			{Name: "sequence", Label: "Sequence", Type: TypeInteger},
			{Name: "inactive", Label: "Inactive", Type: TypeBoolean},
			{Name: "language", Label: "Language", MaxLen: 40},
			{Name: "dependent_value", Label: "Dependent value", MaxLen: 100},
		}},
		{&Table{Name: "sys_properties", Label: "System Property", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 100},
			{Name: "value", Label: "Value", MaxLen: 4000},
			{Name: "description", Label: "Description", MaxLen: 512},
			{Name: "type", Label: "Type", Type: TypeChoice},
		}},
		{&Table{Name: "sys_journal_field", Label: "Journal Entry", DisplayField: "value"}, []*Field{
			{Name: "element", Label: "Element", MaxLen: 80},
			{Name: "element_id", Label: "Element ID", MaxLen: 32},
			{Name: "name", Label: "Table", MaxLen: 80},
			{Name: "value", Label: "Value", MaxLen: 1 << 22},
		}},
	}
	out := make(map[string]*Table, len(defs))
	for _, d := range defs {
		d.t.Fields = map[string]*Field{}
		for _, f := range sysFields() {
			d.t.Fields[f.Name] = f
		}
		if d.t.Extends != "" {
			for _, f := range out[d.t.Extends].Fields {
				d.t.Fields[f.Name] = f
			}
		}
		for _, f := range d.fields {
			d.t.Fields[f.Name] = f
		}
		out[d.t.Name] = d.t
	}
	for _, t := range out {
		for p := t.Extends; p != ""; p = out[p].Extends {
			out[p].children = append(out[p].children, t.Name)
		}
	}
	for _, t := range out {
		sort.Strings(t.children)
	}
	return out
}
