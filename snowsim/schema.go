package snowsim

import "sort"

// FieldType is the platform type of a column; it decides how values are
// compared in queries and rendered in display mode.
type FieldType int

// Field types the simulator knows.
const (
	TypeString      FieldType = iota
	TypeInteger               // compared numerically (state, priority, sys_mod_count)
	TypeBoolean               // "true" / "false"
	TypeDateTime              // stored UTC "2006-01-02 15:04:05"
	TypeReference             // holds a sys_id of Field.Ref
	TypeChoice                // string choice with labels in sys_choice
	TypeIntChoice             // integer choice with labels in sys_choice (state, impact)
	TypeJournal               // write-only through the table; entries live in sys_journal_field
	TypePassword              // one-way hashed (sys_user.user_password)
	TypePassword2             // stored as a digest, never rendered (client secrets, tokens)
	TypeSysID                 // GUID
	TypeGlideList             // comma-separated sys_ids of Field.Ref (watch_list, work_notes_list)
	TypeDuration              // glide_duration: raw "1970-01-01 HH:MM:SS" past the epoch
	TypeJournalList           // comments_and_work_notes: the journals of the record, read-only
	TypeClassName             // sys_class_name: a choice list of the table's classes
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
		{Name: "sys_class_name", Label: "Class", Type: TypeClassName},
		{Name: "sys_tags", Label: "Tags"},
	}
}

func taskFields() []*Field {
	// The task fields a fresh instance's records carry (captured in public
	// client fixtures, e.g. the problem and incident samples of
	// ansible-collections/servicenow.itsm), each with the platform's type.
	return []*Field{
		{Name: "number", Label: "Number", MaxLen: 40},
		{Name: "task_effective_number", Label: "Effective number", MaxLen: 40},
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
		{Name: "additional_assignee_list", Label: "Additional assignee list", Type: TypeGlideList, Ref: "sys_user"},
		{Name: "group_list", Label: "Group list", Type: TypeGlideList, Ref: "sys_user_group"},
		{Name: "reassignment_count", Label: "Reassignment count", Type: TypeInteger},
		{Name: "due_date", Label: "Due date", Type: TypeDateTime},
		{Name: "sla_due", Label: "SLA due", Type: TypeDateTime},
		{Name: "activity_due", Label: "Activity due", Type: TypeDateTime},
		{Name: "expected_start", Label: "Expected start", Type: TypeDateTime},
		{Name: "work_start", Label: "Actual start", Type: TypeDateTime},
		{Name: "work_end", Label: "Actual end", Type: TypeDateTime},
		{Name: "follow_up", Label: "Follow up", Type: TypeDateTime},
		{Name: "approval_set", Label: "Approval set", Type: TypeDateTime},
		{Name: "business_duration", Label: "Business duration", Type: TypeDuration},
		{Name: "calendar_duration", Label: "Duration", Type: TypeDuration},
		{Name: "time_worked", Label: "Time worked", Type: TypeDuration},
		{Name: "close_code", Label: "Close code", Type: TypeChoice},
		{Name: "close_notes", Label: "Close notes", MaxLen: 4000},
		{Name: "work_notes", Label: "Work notes", Type: TypeJournal},
		{Name: "comments", Label: "Additional comments", Type: TypeJournal},
		{Name: "approval_history", Label: "Approval history", Type: TypeJournal},
		{Name: "comments_and_work_notes", Label: "Comments and Work notes", Type: TypeJournalList},
		{Name: "work_notes_list", Label: "Work notes list", Type: TypeGlideList, Ref: "sys_user"},
		{Name: "watch_list", Label: "Watch list", Type: TypeGlideList, Ref: "sys_user"},
		{Name: "correlation_id", Label: "Correlation ID", MaxLen: 100},
		{Name: "correlation_display", Label: "Correlation display", MaxLen: 100},
		{Name: "parent", Label: "Parent", Type: TypeReference, Ref: "task"},
		{Name: "upon_approval", Label: "Upon approval", Type: TypeChoice},
		{Name: "upon_reject", Label: "Upon reject", Type: TypeChoice},
		{Name: "approval", Label: "Approval", Type: TypeChoice},
		{Name: "made_sla", Label: "Made SLA", Type: TypeBoolean},
		{Name: "escalation", Label: "Escalation", Type: TypeIntChoice},
		{Name: "contact_type", Label: "Contact type", Type: TypeChoice},
		{Name: "business_service", Label: "Service", Type: TypeReference, Ref: "cmdb_ci_service"},
		{Name: "service_offering", Label: "Service offering", Type: TypeReference, Ref: "cmdb_ci_service"},
		{Name: "cmdb_ci", Label: "Configuration item", Type: TypeReference, Ref: "cmdb_ci"},
		{Name: "company", Label: "Company", Type: TypeReference, Ref: "core_company"},
		{Name: "location", Label: "Location", Type: TypeReference, Ref: "cmn_location"},
		{Name: "knowledge", Label: "Knowledge", Type: TypeBoolean},
		{Name: "order", Label: "Order", Type: TypeInteger},
		{Name: "user_input", Label: "User input", MaxLen: 4000},
		{Name: "route_reason", Label: "Route reason", Type: TypeIntChoice},
		{Name: "universal_request", Label: "Universal Request", Type: TypeReference, Ref: "task"},
		{Name: "sys_domain", Label: "Domain", Type: TypeReference, Ref: "sys_user_group"},
		{Name: "sys_domain_path", Label: "Domain Path", MaxLen: 255},
	}
}

// cmdbFields are the base configuration item's fields.
func cmdbFields() []*Field {
	return []*Field{
		{Name: "name", Label: "Name", MaxLen: 255},
		{Name: "short_description", Label: "Description", MaxLen: 1000},
		{Name: "asset_tag", Label: "Asset tag", MaxLen: 40},
		{Name: "serial_number", Label: "Serial number", MaxLen: 255},
		{Name: "category", Label: "Category", MaxLen: 40},
		{Name: "subcategory", Label: "Subcategory", MaxLen: 40},
		{Name: "operational_status", Label: "Operational status", Type: TypeIntChoice},
		{Name: "install_status", Label: "Status", Type: TypeIntChoice},
		{Name: "company", Label: "Company", Type: TypeReference, Ref: "core_company"},
		{Name: "location", Label: "Location", Type: TypeReference, Ref: "cmn_location"},
		{Name: "department", Label: "Department", Type: TypeReference, Ref: "cmn_department"},
		{Name: "owned_by", Label: "Owned by", Type: TypeReference, Ref: "sys_user"},
		{Name: "managed_by", Label: "Managed by", Type: TypeReference, Ref: "sys_user"},
		{Name: "support_group", Label: "Support group", Type: TypeReference, Ref: "sys_user_group"},
		{Name: "ip_address", Label: "IP Address", MaxLen: 255},
		{Name: "fqdn", Label: "Fully qualified domain name", MaxLen: 255},
		{Name: "manufacturer", Label: "Manufacturer", Type: TypeReference, Ref: "core_company"},
	}
}

// importRowFields are the fields of every staging table's row: where it
// came from and what its transform did.
func importRowFields() []*Field {
	return []*Field{
		{Name: "sys_import_set", Label: "Set", Type: TypeReference, Ref: "sys_import_set"},
		{Name: "sys_import_row", Label: "Row", Type: TypeInteger},
		{Name: "sys_import_state", Label: "State", Type: TypeChoice},
		{Name: "sys_import_state_comment", Label: "Comment", MaxLen: 4000},
		{Name: "sys_target_table", Label: "Target table", MaxLen: 80},
		{Name: "sys_target_sys_id", Label: "Target record", MaxLen: 32},
		{Name: "sys_transform_map", Label: "Transform map", Type: TypeReference, Ref: "sys_transform_map"},
	}
}

// serverFields are cmdb_ci_server's own fields.
func serverFields() []*Field {
	return []*Field{
		{Name: "os", Label: "Operating System", Type: TypeChoice},
		{Name: "os_version", Label: "OS Version", MaxLen: 40},
		{Name: "cpu_count", Label: "CPU count", Type: TypeInteger},
		{Name: "ram", Label: "RAM (MB)", Type: TypeInteger},
		{Name: "host_name", Label: "Host name", MaxLen: 100},
		{Name: "classification", Label: "Classification", Type: TypeChoice},
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
			{Name: "reopened_by", Label: "Last reopened by", Type: TypeReference, Ref: "sys_user"},
			{Name: "reopened_time", Label: "Last reopened at", Type: TypeDateTime},
			{Name: "problem_id", Label: "Problem", Type: TypeReference, Ref: "problem"},
			{Name: "parent_incident", Label: "Parent Incident", Type: TypeReference, Ref: "incident"},
			{Name: "child_incidents", Label: "Child Incidents", Type: TypeInteger},
			{Name: "rfc", Label: "Change Request", Type: TypeReference, Ref: "change_request"},
			{Name: "caused_by", Label: "Caused by Change", Type: TypeReference, Ref: "change_request"},
			{Name: "notify", Label: "Notify", Type: TypeIntChoice},
			{Name: "business_stc", Label: "Business resolve time", Type: TypeInteger},
			{Name: "calendar_stc", Label: "Resolve time", Type: TypeInteger},
			{Name: "business_impact", Label: "Business impact", MaxLen: 4000},
			{Name: "origin_id", Label: "Origin", MaxLen: 32},
			{Name: "origin_table", Label: "Origin table", MaxLen: 80},
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
			{Name: "reason", Label: "Reason", Type: TypeChoice},
			{Name: "phase", Label: "Phase", Type: TypeChoice},
			{Name: "phase_state", Label: "Phase state", Type: TypeChoice},
			{Name: "review_status", Label: "Review status", Type: TypeIntChoice},
			{Name: "conflict_status", Label: "Conflict status", Type: TypeChoice},
			{Name: "conflict_last_run", Label: "Conflict last run", Type: TypeDateTime},
			{Name: "cab_required", Label: "CAB required", Type: TypeBoolean},
			{Name: "cab_date", Label: "CAB date", Type: TypeDateTime},
			{Name: "cab_recommendation", Label: "CAB recommendation", MaxLen: 4000},
			{Name: "on_hold", Label: "On hold", Type: TypeBoolean},
			{Name: "on_hold_reason", Label: "On hold reason", MaxLen: 4000},
			{Name: "production_system", Label: "Production system", Type: TypeBoolean},
			{Name: "outside_maintenance_schedule", Label: "Outside maintenance schedule", Type: TypeBoolean},
			{Name: "unauthorized", Label: "Unauthorized", Type: TypeBoolean},
			{Name: "scope", Label: "Scope", Type: TypeIntChoice},
			{Name: "change_plan", Label: "Change plan", MaxLen: 4000},
			{Name: "risk_impact_analysis", Label: "Risk and impact analysis", MaxLen: 4000},
		}},
		{&Table{Name: "problem", Label: "Problem", Extends: "task", NumberPrefix: "PRB", NumberStart: 40000, DisplayField: "number"}, []*Field{
			{Name: "problem_state", Label: "Problem state", Type: TypeIntChoice},
			{Name: "category", Label: "Category", Type: TypeChoice},
			{Name: "subcategory", Label: "Subcategory", Type: TypeChoice},
			{Name: "known_error", Label: "Known error", Type: TypeBoolean},
			{Name: "major_problem", Label: "Major problem", Type: TypeBoolean},
			{Name: "workaround", Label: "Workaround", MaxLen: 4000},
			{Name: "workaround_applied", Label: "Workaround applied", Type: TypeBoolean},
			{Name: "workaround_communicated_at", Label: "Workaround communicated at", Type: TypeDateTime},
			{Name: "workaround_communicated_by", Label: "Workaround communicated by", Type: TypeReference, Ref: "sys_user"},
			{Name: "cause_notes", Label: "Cause notes", MaxLen: 4000},
			{Name: "fix_notes", Label: "Fix notes", MaxLen: 4000},
			{Name: "fix_communicated_at", Label: "Fix communicated at", Type: TypeDateTime},
			{Name: "fix_communicated_by", Label: "Fix communicated by", Type: TypeReference, Ref: "sys_user"},
			{Name: "resolution_code", Label: "Resolution code", Type: TypeChoice},
			{Name: "resolved_at", Label: "Resolved", Type: TypeDateTime},
			{Name: "resolved_by", Label: "Resolved by", Type: TypeReference, Ref: "sys_user"},
			{Name: "confirmed_at", Label: "Confirmed at", Type: TypeDateTime},
			{Name: "confirmed_by", Label: "Confirmed by", Type: TypeReference, Ref: "sys_user"},
			{Name: "duplicate_of", Label: "Duplicate of", Type: TypeReference, Ref: "problem"},
			{Name: "first_reported_by_task", Label: "First reported by", Type: TypeReference, Ref: "task"},
			{Name: "related_incidents", Label: "Related Incidents", Type: TypeInteger},
			{Name: "rfc", Label: "Change request", Type: TypeReference, Ref: "change_request"},
			{Name: "reopen_count", Label: "Reopen count", Type: TypeInteger},
			{Name: "reopened_at", Label: "Last reopened at", Type: TypeDateTime},
			{Name: "reopened_by", Label: "Last reopened by", Type: TypeReference, Ref: "sys_user"},
			{Name: "review_outcome", Label: "Review outcome", Type: TypeChoice},
		}},
		{&Table{Name: "cmdb_ci", Label: "Configuration Item", DisplayField: "name"}, cmdbFields()},
		{&Table{Name: "cmdb_ci_server", Label: "Server", Extends: "cmdb_ci", DisplayField: "name"}, serverFields()},
		{&Table{Name: "cmdb_ci_linux_server", Label: "Linux Server", Extends: "cmdb_ci_server", DisplayField: "name"}, nil},
		{&Table{Name: "cmdb_ci_win_server", Label: "Windows Server", Extends: "cmdb_ci_server", DisplayField: "name"}, nil},
		{&Table{Name: "cmdb_ci_service", Label: "Business Service", Extends: "cmdb_ci", DisplayField: "name"}, []*Field{
			{Name: "service_classification", Label: "Service classification", Type: TypeChoice},
			{Name: "busines_criticality", Label: "Business criticality", Type: TypeChoice},
			{Name: "used_for", Label: "Used for", Type: TypeChoice},
			{Name: "version", Label: "Version", MaxLen: 40},
		}},
		{&Table{Name: "cmdb_ci_service_auto", Label: "Application Service", Extends: "cmdb_ci_service", DisplayField: "name"}, nil},
		{&Table{Name: "core_company", Label: "Company", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 80},
			{Name: "customer", Label: "Customer", Type: TypeBoolean},
			{Name: "vendor", Label: "Vendor", Type: TypeBoolean},
			{Name: "manufacturer", Label: "Manufacturer", Type: TypeBoolean},
			{Name: "primary", Label: "Primary", Type: TypeBoolean},
			{Name: "city", Label: "City", MaxLen: 50},
			{Name: "country", Label: "Country", MaxLen: 40},
			{Name: "website", Label: "Website", MaxLen: 1024},
			{Name: "parent", Label: "Parent", Type: TypeReference, Ref: "core_company"},
		}},
		{&Table{Name: "cmn_location", Label: "Location", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 100},
			{Name: "full_name", Label: "Full name", MaxLen: 255},
			{Name: "street", Label: "Street", MaxLen: 255},
			{Name: "city", Label: "City", MaxLen: 50},
			{Name: "state", Label: "State / Province", MaxLen: 40},
			{Name: "country", Label: "Country", MaxLen: 40},
			{Name: "zip", Label: "Zip / Postal code", MaxLen: 40},
			{Name: "company", Label: "Company", Type: TypeReference, Ref: "core_company"},
			{Name: "parent", Label: "Parent", Type: TypeReference, Ref: "cmn_location"},
		}},
		{&Table{Name: "cmn_department", Label: "Department", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 100},
			{Name: "id", Label: "ID", MaxLen: 40},
			{Name: "description", Label: "Description", MaxLen: 1000},
			{Name: "company", Label: "Company", Type: TypeReference, Ref: "core_company"},
			{Name: "dept_head", Label: "Department head", Type: TypeReference, Ref: "sys_user"},
			{Name: "parent", Label: "Parent", Type: TypeReference, Ref: "cmn_department"},
		}},
		{&Table{Name: "sys_audit_delete", Label: "Deleted Records", DisplayField: "display_value"}, []*Field{
			{Name: "tablename", Label: "Table", MaxLen: 80},
			{Name: "documentkey", Label: "Document key", MaxLen: 32},
			{Name: "display_value", Label: "Display value", MaxLen: 255},
			{Name: "payload", Label: "Payload", MaxLen: 1 << 22},
			{Name: "doc_update_count", Label: "Update count", Type: TypeInteger},
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
			{Name: "department", Label: "Department", Type: TypeReference, Ref: "cmn_department"},
			{Name: "company", Label: "Company", Type: TypeReference, Ref: "core_company"},
			{Name: "location", Label: "Location", Type: TypeReference, Ref: "cmn_location"},
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
		// Import sets (c_ImportSetAPI.md): rows of a staging table extend
		// sys_import_set_row and belong to an import set; a transform map
		// and its field maps copy them onto the target table.
		{&Table{Name: "sys_import_set", Label: "Import Set", NumberPrefix: "ISET", NumberStart: 10000, DisplayField: "number"}, []*Field{
			{Name: "number", Label: "Set", MaxLen: 40},
			{Name: "table_name", Label: "Import set table", MaxLen: 80},
			{Name: "state", Label: "State", Type: TypeChoice},
			{Name: "mode", Label: "Mode", Type: TypeChoice},
			{Name: "short_description", Label: "Short description", MaxLen: 160},
			{Name: "multi_import_set", Label: "Multi import set", Type: TypeReference, Ref: "sys_multi_import_set"},
		}},
		{&Table{Name: "sys_multi_import_set", Label: "Multi Import Set", DisplayField: "sys_id"}, []*Field{
			{Name: "state", Label: "State", Type: TypeChoice},
		}},
		{&Table{Name: "sys_import_set_row", Label: "Import Set Row", DisplayField: "sys_import_row"}, importRowFields()},
		{&Table{Name: "u_scorebridge_incident_import", Label: "ScoreBridge Incident Import", Extends: "sys_import_set_row", DisplayField: "u_short_description"}, []*Field{
			{Name: "u_short_description", Label: "Short description", MaxLen: 4000},
			{Name: "u_description", Label: "Description", MaxLen: 4000},
			{Name: "u_impact", Label: "Impact", MaxLen: 40},
			{Name: "u_urgency", Label: "Urgency", MaxLen: 40},
			{Name: "u_category", Label: "Category", MaxLen: 40},
			{Name: "u_state", Label: "State", MaxLen: 40},
			{Name: "u_caller", Label: "Caller", MaxLen: 100},
			{Name: "u_assignment_group", Label: "Assignment group", MaxLen: 100},
			{Name: "u_correlation_id", Label: "Correlation ID", MaxLen: 100},
			{Name: "u_correlation_display", Label: "Correlation display", MaxLen: 100},
		}},
		{&Table{Name: "sys_transform_map", Label: "Table Transform Map", DisplayField: "name"}, []*Field{
			{Name: "name", Label: "Name", MaxLen: 80},
			{Name: "source_table", Label: "Source table", MaxLen: 80},
			{Name: "target_table", Label: "Target table", MaxLen: 80},
			{Name: "active", Label: "Active", Type: TypeBoolean},
			{Name: "order", Label: "Order", Type: TypeInteger},
		}},
		{&Table{Name: "sys_transform_entry", Label: "Field Map", DisplayField: "target_field"}, []*Field{
			{Name: "map", Label: "Transform map", Type: TypeReference, Ref: "sys_transform_map"},
			{Name: "source_field", Label: "Source field", MaxLen: 80},
			{Name: "target_field", Label: "Target field", MaxLen: 80},
			{Name: "coalesce", Label: "Coalesce", Type: TypeBoolean},
		}},
		// Attachments: metadata in sys_attachment, the bytes in
		// sys_attachment_doc in chunks (r_AdministeringAttachments.md).
		{&Table{Name: "sys_attachment", Label: "Attachment", DisplayField: "file_name"}, []*Field{
			{Name: "file_name", Label: "File name", MaxLen: 100},
			{Name: "content_type", Label: "Content type", MaxLen: 100},
			{Name: "size_bytes", Label: "Size bytes", Type: TypeInteger},
			{Name: "size_compressed", Label: "Size compressed", Type: TypeInteger},
			{Name: "compressed", Label: "Compressed", Type: TypeBoolean},
			{Name: "chunk_size_bytes", Label: "Chunk size bytes", MaxLen: 40},
			{Name: "table_name", Label: "Table name", MaxLen: 100},
			{Name: "table_sys_id", Label: "Table sys ID", MaxLen: 32},
			{Name: "hash", Label: "Hash", MaxLen: 64},
			{Name: "state", Label: "State", MaxLen: 40},
			{Name: "average_image_color", Label: "Average image color", MaxLen: 40},
			{Name: "image_height", Label: "Image height", Type: TypeInteger},
			{Name: "image_width", Label: "Image width", Type: TypeInteger},
		}},
		{&Table{Name: "sys_attachment_doc", Label: "Attachment Document", DisplayField: "sys_attachment"}, []*Field{
			{Name: "sys_attachment", Label: "Attachment", Type: TypeReference, Ref: "sys_attachment"},
			{Name: "position", Label: "Position", Type: TypeInteger},
			{Name: "length", Label: "Length", Type: TypeInteger},
			{Name: "data", Label: "Data"},
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
