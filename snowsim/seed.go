package snowsim

import "strconv"

// The data of a fresh instance: roles, a few users and groups, the choice
// lists of incident, change_request and task, and the system properties the
// simulator honours.

// DemoPassword is the password of the seeded users other than admin
// (beth.anglin, abel.tuter, bud.richman, fred.luddy).
const DemoPassword = "Demo.Password1"

// Seeded user names, for tests and demos.
const (
	UserAdmin    = "admin"       // roles: admin
	UserITIL     = "beth.anglin" // roles: itil; time zone America/New_York
	UserNoRoles  = "abel.tuter"  // no roles
	UserInactive = "fred.luddy"  // active=false
	UserLocked   = "bud.richman" // locked_out=true, itil
)

var seedRoles = []struct{ name, description string }{
	{"admin", "System Administrator"},
	{"itil", "Fulfiller of ITIL processes (incident, problem, change)"},
	{"itil_admin", "Administers ITIL processes"},
	{"security_admin", "Elevated security administration"},
	{"oauth_admin", "Manages OAuth application registries"},
	{"user_admin", "Manages users and groups"},
	{"rest_service", "Access to REST web services"},
	{"snc_platform_rest_api_access", "Access to platform REST APIs"},
	{"web_service_admin", "Manages web services"},
}

type seedUser struct {
	userName, first, last, email, tz string
	active, locked                   bool
	roles                            []string
}

var seedUsers = []seedUser{
	{UserAdmin, "System", "Administrator", "admin@example.com", "", true, false, []string{"admin"}},
	{UserITIL, "Beth", "Anglin", "beth.anglin@example.com", "America/New_York", true, false, []string{"itil"}},
	{UserNoRoles, "Abel", "Tuter", "abel.tuter@example.com", "", true, false, nil},
	{UserInactive, "Fred", "Luddy", "fred.luddy@example.com", "", false, false, []string{"itil"}},
	{UserLocked, "Bud", "Richman", "bud.richman@example.com", "", true, true, []string{"itil"}},
}

var seedGroups = []struct{ name, description string }{
	{"Service Desk", "First line support"},
	{"Security Operations", "Security incident response and hardening"},
	{"Change Management", "Change advisory board"},
}

type choice struct{ value, label string }

var levels = []choice{{"1", "1 - High"}, {"2", "2 - Medium"}, {"3", "3 - Low"}}

var seedChoices = []struct {
	table, element string
	choices        []choice
}{
	{"task", "state", []choice{{"-5", "Pending"}, {"1", "Open"}, {"2", "Work in Progress"}, {"3", "Closed Complete"}, {"4", "Closed Incomplete"}, {"7", "Closed Skipped"}}},
	{"task", "impact", levels},
	{"task", "urgency", levels},
	{"task", "priority", []choice{{"1", "1 - Critical"}, {"2", "2 - High"}, {"3", "3 - Moderate"}, {"4", "4 - Low"}, {"5", "5 - Planning"}}},
	{"incident", "state", []choice{{"1", "New"}, {"2", "In Progress"}, {"3", "On Hold"}, {"6", "Resolved"}, {"7", "Closed"}, {"8", "Canceled"}}},
	{"incident", "incident_state", []choice{{"1", "New"}, {"2", "In Progress"}, {"3", "On Hold"}, {"6", "Resolved"}, {"7", "Closed"}, {"8", "Canceled"}}},
	{"incident", "impact", levels},
	{"incident", "urgency", levels},
	{"incident", "priority", []choice{{"1", "1 - Critical"}, {"2", "2 - High"}, {"3", "3 - Moderate"}, {"4", "4 - Low"}, {"5", "5 - Planning"}}},
	{"incident", "hold_reason", []choice{{"1", "Awaiting Caller"}, {"5", "Awaiting Change"}, {"3", "Awaiting Problem"}, {"4", "Awaiting Vendor"}}},
	{"incident", "close_code", []choice{
		{"Duplicate", "Duplicate"}, {"Known error", "Known error"}, {"No resolution provided", "No resolution provided"},
		{"Resolved by caller", "Resolved by caller"}, {"Resolved by change", "Resolved by change"},
		{"Resolved by problem", "Resolved by problem"}, {"Resolved by request", "Resolved by request"},
		{"Solution provided", "Solution provided"}, {"Workaround provided", "Workaround provided"}, {"User error", "User error"}}},
	{"incident", "category", []choice{{"inquiry", "Inquiry / Help"}, {"software", "Software"}, {"hardware", "Hardware"}, {"network", "Network"}, {"database", "Database"}}},
	{"change_request", "state", []choice{{"-5", "New"}, {"-4", "Assess"}, {"-3", "Authorize"}, {"-2", "Scheduled"}, {"-1", "Implement"}, {"0", "Review"}, {"3", "Closed"}, {"4", "Canceled"}}},
	{"change_request", "type", []choice{{"standard", "Standard"}, {"normal", "Normal"}, {"emergency", "Emergency"}}},
	{"change_request", "close_code", []choice{{"successful", "Successful"}, {"successful_issues", "Successful with issues"}, {"unsuccessful", "Unsuccessful"}}},
	{"change_request", "category", []choice{{"Hardware", "Hardware"}, {"Software", "Software"}, {"Service", "Service"}, {"System Software", "System Software"},
		{"Applications Software", "Applications Software"}, {"Network", "Network"}, {"Telecom", "Telecom"}, {"Documentation", "Documentation"}, {"Other", "Other"}}},
	{"change_request", "risk", []choice{{"1", "Very High"}, {"2", "High"}, {"3", "Moderate"}, {"4", "Low"}}},
	{"change_request", "impact", levels},
	{"change_request", "urgency", levels},
	{"change_request", "priority", []choice{{"1", "1 - Critical"}, {"2", "2 - High"}, {"3", "3 - Moderate"}, {"4", "4 - Low"}}},
}

var seedProperties = []struct{ name, value, description string }{
	{"glide.sys.default.tz", "America/Los_Angeles", "System time zone"},
	{"glide.invalid_query.returns_no_rows", "false", "Return no rows when a query names an invalid field"},
	{"glide.oauth.inbound.client.credential.grant_type.enabled", "false", "Allow the client_credentials grant type"},
	{"glide.rest.batch.max.inputSize", "5", "Largest batch item request, in MB"},
	{"glide.sys.date_format", "yyyy-MM-dd", "Date format"},
	{"glide.sys.time_format", "HH:mm:ss", "Time format"},
}

// seed fills an empty instance. It runs before the instance is shared, but
// takes the lock so the invariants of the *Locked methods hold.
func (in *Instance) seed() {
	in.mu.Lock()
	defer in.mu.Unlock()
	sys := &Session{UserName: "system", Roles: map[string]bool{"admin": true}, Method: "system"}
	must := func(table string, v map[string]string) Record {
		rec, _, err := in.insertLocked(sys, table, v, writeOptions{script: true})
		if err != nil {
			panic("snowsim: seed " + table + ": " + err.Error()) // a bug in the seed data
		}
		return rec
	}
	for _, p := range seedProperties {
		must("sys_properties", map[string]string{"name": p.name, "value": p.value, "description": p.description})
	}
	roles := map[string]string{}
	for _, r := range seedRoles {
		roles[r.name] = must("sys_user_role", map[string]string{"name": r.name, "description": r.description,
			"elevated_privilege": strconv.FormatBool(r.name == "security_admin")})["sys_id"]
	}
	for _, u := range seedUsers {
		pw := DemoPassword
		if u.userName == UserAdmin {
			pw = in.opts.AdminPassword
		}
		rec := must("sys_user", map[string]string{
			"user_name": u.userName, "first_name": u.first, "last_name": u.last, "email": u.email,
			"time_zone": u.tz, "active": strconv.FormatBool(u.active), "locked_out": strconv.FormatBool(u.locked),
			"user_password": pw,
		})
		for _, role := range u.roles {
			must("sys_user_has_role", map[string]string{"user": rec["sys_id"], "role": roles[role]})
		}
	}
	for _, g := range seedGroups {
		must("sys_user_group", map[string]string{"name": g.name, "description": g.description})
	}
	for _, c := range seedChoices {
		for i, ch := range c.choices {
			must("sys_choice", map[string]string{"name": c.table, "element": c.element, "value": ch.value,
				"label": ch.label, "sequence": strconv.Itoa((i + 1) * 100)})
		}
	}
}
