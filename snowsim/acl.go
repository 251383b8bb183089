package snowsim

import "net/http"

// Operations an ACL decides on.
const (
	opRead   = "read"
	opCreate = "create"
	opWrite  = "write"
	opDelete = "delete"
)

// tableACL lists the roles that may read and write a table. admin passes
// every check (Session.HasRole). Tables that are absent are admin-only.
type tableACL struct {
	read, write []string
}

// acls are the ACLs of a fresh instance, as far as a client can tell:
// itil works incidents, changes and tasks and reads the people and choice
// tables; application registries, credentials, role grants and properties
// belong to admin and the security/OAuth administrators.
var acls = map[string]tableACL{
	"task":           {read: []string{"itil"}, write: []string{"itil"}},
	"incident":       {read: []string{"itil"}, write: []string{"itil"}},
	"change_request": {read: []string{"itil"}, write: []string{"itil"}},
	"problem":        {read: []string{"itil"}, write: []string{"itil"}},
	// The CMDB and the foundation tables are readable by every fulfiller.
	"cmdb_ci":        {read: []string{"itil"}, write: []string{"itil_admin"}},
	"core_company":   {read: []string{"itil"}, write: nil},
	"cmn_location":   {read: []string{"itil"}, write: nil},
	"cmn_department": {read: []string{"itil"}, write: nil},
	// sys_audit_delete is an audit table: admin only on a fresh instance
	// (granular-admin-roles-for-auditing.md gives audit_viewer sys_audit,
	// sys_journal_field and sys_history_set, not the deleted records).
	"sys_audit_delete":  {read: nil, write: nil},
	"sys_user":          {read: []string{"itil", "user_admin"}, write: []string{"user_admin"}},
	"sys_user_group":    {read: []string{"itil", "user_admin"}, write: []string{"user_admin"}},
	"sys_user_role":     {read: []string{"itil", "user_admin"}, write: nil},
	"sys_choice":        {read: []string{"itil"}, write: nil},
	"sys_journal_field": {read: []string{"itil"}, write: nil},
	"sys_user_has_role": {read: []string{"user_admin", "security_admin"}, write: []string{"user_admin", "security_admin"}},
	"oauth_entity":      {read: []string{"oauth_admin", "security_admin"}, write: []string{"oauth_admin", "security_admin"}},
	"oauth_credential":  {read: []string{"oauth_admin", "security_admin"}, write: []string{"oauth_admin", "security_admin"}},
	"sys_properties":    {read: nil, write: nil},
	// Staging tables (and the import sets they fill) belong to the import
	// roles; transform maps to admin.
	"sys_import_set_row": {read: []string{"import_set_loader", "import_transformer"}, write: []string{"import_set_loader", "import_transformer"}},
	"sys_import_set":     {read: []string{"import_set_loader", "import_transformer"}, write: []string{"import_set_loader", "import_transformer"}},
}

// tableParents maps each extended table to the table it extends.
var tableParents = func() map[string]string {
	m := map[string]string{}
	for name, t := range schemaDefs() {
		m[name] = t.Extends
	}
	return m
}()

// allowed reports whether the session may perform op on table.
func allowed(s *Session, table, op string) bool {
	if s.HasRole("admin") {
		return true
	}
	acl, ok := acls[table]
	for p := tableParents[table]; !ok && p != ""; p = tableParents[p] {
		// A table without ACLs of its own is governed by its parent's
		// (cmdb_ci_server by cmdb_ci's).
		acl, ok = acls[p]
	}
	roles := acl.write
	if op == opRead {
		roles = acl.read
	}
	for _, r := range roles {
		if s.Roles[r] {
			return true
		}
	}
	return false
}

// authorize returns the documented refusal for op on table, or nil. list is
// true for a list read, which is refused differently from a single read.
func (in *Instance) authorize(s *Session, table, op string, list bool) *APIError {
	if op == opRead && table == "oauth_entity" && in.crossScopeBlocked.Load() {
		return &APIError{Status: http.StatusForbidden,
			Message: "Read operation against 'oauth_entity' from scope '" + in.opts.Scope + "' has been refused due to the table's cross-scope access policy"}
	}
	if allowed(s, table, op) {
		return nil
	}
	switch op {
	case opRead:
		if list {
			return errQueryRights()
		}
		return errNoRecord()
	case opCreate:
		return errACL("Insert")
	case opDelete:
		return errACL("Delete")
	}
	return errACL("Update")
}
