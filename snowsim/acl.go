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
	"task":              {read: []string{"itil"}, write: []string{"itil"}},
	"incident":          {read: []string{"itil"}, write: []string{"itil"}},
	"change_request":    {read: []string{"itil"}, write: []string{"itil"}},
	"sys_user":          {read: []string{"itil", "user_admin"}, write: []string{"user_admin"}},
	"sys_user_group":    {read: []string{"itil", "user_admin"}, write: []string{"user_admin"}},
	"sys_user_role":     {read: []string{"itil", "user_admin"}, write: nil},
	"sys_choice":        {read: []string{"itil"}, write: nil},
	"sys_journal_field": {read: []string{"itil"}, write: nil},
	"sys_user_has_role": {read: []string{"user_admin", "security_admin"}, write: []string{"user_admin", "security_admin"}},
	"oauth_entity":      {read: []string{"oauth_admin", "security_admin"}, write: []string{"oauth_admin", "security_admin"}},
	"oauth_credential":  {read: []string{"oauth_admin", "security_admin"}, write: []string{"oauth_admin", "security_admin"}},
	"sys_properties":    {read: nil, write: nil},
}

// allowed reports whether the session may perform op on table.
func allowed(s *Session, table, op string) bool {
	if s.HasRole("admin") {
		return true
	}
	acl := acls[table]
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
