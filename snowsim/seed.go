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
	{"import_set_loader", "Loads data into import set tables"},
	{"import_transformer", "Runs import set transforms"},
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
	{"change_request", "phase", []choice{{"requested", "Requested"}, {"approval", "Approval"}, {"work", "Work"}, {"completed", "Completed"}}},
	{"change_request", "phase_state", []choice{{"open", "Open"}, {"on_hold", "On Hold"}, {"closed", "Closed"}}},
	{"change_request", "conflict_status", []choice{{"Not Run", "Not Run"}, {"Conflict", "Conflict"}, {"No Conflict", "No Conflict"}}},
	{"change_request", "scope", []choice{{"1", "Massive"}, {"2", "Large"}, {"3", "Medium"}, {"4", "Small"}, {"5", "Tiny"}}},
	{"change_request", "reason", []choice{{"broken", "Broken"}, {"enhancement", "Enhancement"}, {"maintenance", "Maintenance"}, {"security", "Security"}}},
	// The task choices every task table inherits.
	{"task", "approval", []choice{{"not requested", "Not Yet Requested"}, {"requested", "Requested"}, {"approved", "Approved"},
		{"rejected", "Rejected"}, {"cancelled", "Cancelled"}, {"not_required", "No Longer Required"}, {"duplicate", "Duplicate"}}},
	{"task", "escalation", []choice{{"0", "Normal"}, {"1", "Moderate"}, {"2", "High"}, {"3", "Overdue"}}},
	{"task", "upon_approval", []choice{{"proceed", "Proceed to Next Task"}, {"do_nothing", "Wait for a User to Close this task"}}},
	{"task", "upon_reject", []choice{{"cancel", "Cancel all future Tasks"}, {"goto", "Go to a previous Task"}}},
	{"task", "contact_type", []choice{{"email", "Email"}, {"phone", "Phone"}, {"self-service", "Self-service"}, {"virtual_agent", "Virtual Agent"}, {"walk-in", "Walk-in"}}},
	{"task", "sys_class_name", []choice{{"task", "Task"}, {"incident", "Incident"}, {"change_request", "Change Request"}, {"problem", "Problem"}}},
	{"incident", "severity", levels},
	{"incident", "notify", []choice{{"1", "Do Not Notify"}, {"2", "Send Email"}, {"3", "Send SMS"}}},
	{"incident", "subcategory", []choice{{"email", "Email"}, {"os", "Operating System"}, {"antivirus", "Antivirus"}, {"vpn", "VPN"}, {"wireless", "Wireless"}, {"db2", "DB2"}}},
	// problem, on the best practice state model (Madrid and later).
	{"problem", "state", problemStates},
	{"problem", "problem_state", problemStates},
	{"problem", "impact", levels},
	{"problem", "urgency", levels},
	{"problem", "priority", []choice{{"1", "1 - Critical"}, {"2", "2 - High"}, {"3", "3 - Moderate"}, {"4", "4 - Low"}, {"5", "5 - Planning"}}},
	{"problem", "resolution_code", []choice{{"fix_applied", "Fix Applied"}, {"risk_accepted", "Risk Accepted"}, {"duplicate", "Duplicate"}, {"canceled", "Canceled"}}},
	{"problem", "category", []choice{{"inquiry", "Inquiry / Help"}, {"software", "Software"}, {"hardware", "Hardware"}, {"network", "Network"}, {"database", "Database"}}},
	{"cmdb_ci", "operational_status", []choice{{"1", "Operational"}, {"2", "Non-Operational"}, {"3", "Repair in Progress"}, {"4", "DR Standby"}, {"5", "Ready"}, {"6", "Retired"}}},
	{"cmdb_ci", "install_status", []choice{{"1", "Installed"}, {"2", "On Order"}, {"3", "In Maintenance"}, {"4", "Pending Install"}, {"5", "Pending Repair"}, {"6", "In Stock"}, {"7", "Retired"}, {"8", "Stolen"}, {"100", "Absent"}}},
	{"cmdb_ci", "sys_class_name", []choice{{"cmdb_ci", "Configuration Item"}, {"cmdb_ci_server", "Server"}, {"cmdb_ci_linux_server", "Linux Server"},
		{"cmdb_ci_win_server", "Windows Server"}, {"cmdb_ci_service", "Business Service"}, {"cmdb_ci_service_auto", "Application Service"}}},
	{"cmdb_ci_server", "os", []choice{{"Linux Red Hat", "Linux Red Hat"}, {"Linux Ubuntu", "Linux Ubuntu"}, {"Windows 2019 Datacenter", "Windows 2019 Datacenter"}, {"Windows 2022 Standard", "Windows 2022 Standard"}}},
	{"cmdb_ci_service", "busines_criticality", []choice{{"1 - most critical", "1 - most critical"}, {"2 - somewhat critical", "2 - somewhat critical"}, {"3 - less critical", "3 - less critical"}, {"4 - not critical", "4 - not critical"}}},
	{"cmdb_ci_service", "used_for", []choice{{"Production", "Production"}, {"Staging", "Staging"}, {"QA", "QA"}, {"Test", "Test"}, {"Development", "Development"}}},
}

var problemStates = []choice{{"101", "New"}, {"102", "Assess"}, {"103", "Root Cause Analysis"}, {"104", "Fix in Progress"}, {"106", "Resolved"}, {"107", "Closed"}}

var seedProperties = []struct{ name, value, description string }{
	{"glide.sys.default.tz", "America/Los_Angeles", "System time zone"},
	{"glide.invalid_query.returns_no_rows", "false", "Return no rows when a query names an invalid field"},
	{"glide.oauth.inbound.client.credential.grant_type.enabled", "false", "Allow the client_credentials grant type"},
	{"glide.rest.batch.max.inputSize", "5", "Largest batch item request, in MB"},
	{"com.glide.attachment.max_size", "1024", "Largest attachment, in MB"},
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
	in.seedReferences(must)
	in.seedImportSets(must)
	for _, c := range seedChoices {
		for i, ch := range c.choices {
			must("sys_choice", map[string]string{"name": c.table, "element": c.element, "value": ch.value,
				"label": ch.label, "sequence": strconv.Itoa((i + 1) * 100)})
		}
	}
}

// seedReferences fills the foundation tables and the CMDB with a little of
// what a fresh instance's demo data holds: companies, locations,
// departments, a few servers and an application service.
func (in *Instance) seedReferences(must func(string, map[string]string) Record) {
	company := map[string]string{}
	for _, c := range []struct{ name, city, country string }{
		{"ACME North America", "New York", "USA"}, {"ACME EMEA", "London", "UK"},
	} {
		company[c.name] = must("core_company", map[string]string{"name": c.name, "city": c.city, "country": c.country,
			"customer": "false", "vendor": "false", "manufacturer": "false", "primary": "false"})["sys_id"]
	}
	for _, m := range []string{"Dell Inc.", "Microsoft"} {
		company[m] = must("core_company", map[string]string{"name": m, "vendor": "true", "manufacturer": "true",
			"customer": "false", "primary": "false"})["sys_id"]
	}
	location := map[string]string{}
	for _, l := range []struct{ name, street, city, state, country, company string }{
		{"2-10-1 Yurakucho, Chiyoda-ku, Tokyo", "2-10-1 Yurakucho", "Tokyo", "", "Japan", ""},
		{"New York", "One World Trade Center", "New York", "NY", "USA", "ACME North America"},
		{"London", "1 Churchill Place", "London", "", "UK", "ACME EMEA"},
	} {
		location[l.name] = must("cmn_location", map[string]string{"name": l.name, "full_name": l.name, "street": l.street,
			"city": l.city, "state": l.state, "country": l.country, "company": company[l.company]})["sys_id"]
	}
	dept := map[string]string{}
	for _, d := range []struct{ name, id string }{{"IT", "IT"}, {"Security", "SEC"}, {"Finance", "FIN"}} {
		dept[d.name] = must("cmn_department", map[string]string{"name": d.name, "id": d.id, "company": company["ACME North America"]})["sys_id"]
	}
	ci := func(table string, v map[string]string) string {
		v["operational_status"], v["install_status"] = "1", "1"
		return must(table, v)["sys_id"]
	}
	ci("cmdb_ci_linux_server", map[string]string{"name": "lnux100", "os": "Linux Red Hat", "os_version": "9.4", "ip_address": "10.0.0.100",
		"host_name": "lnux100", "fqdn": "lnux100.acme.example", "cpu_count": "8", "ram": "32768", "company": company["ACME North America"],
		"location": location["New York"], "department": dept["IT"], "manufacturer": company["Dell Inc."]})
	ci("cmdb_ci_linux_server", map[string]string{"name": "lnux101", "os": "Linux Ubuntu", "os_version": "24.04", "ip_address": "10.0.0.101",
		"host_name": "lnux101", "fqdn": "lnux101.acme.example", "cpu_count": "4", "ram": "16384", "company": company["ACME North America"],
		"location": location["New York"], "department": dept["IT"], "manufacturer": company["Dell Inc."]})
	ci("cmdb_ci_win_server", map[string]string{"name": "EXCH-SD-05", "os": "Windows 2022 Standard", "ip_address": "10.0.1.5",
		"host_name": "exch-sd-05", "fqdn": "exch-sd-05.acme.example", "cpu_count": "16", "ram": "65536", "company": company["ACME EMEA"],
		"location": location["London"], "department": dept["IT"], "manufacturer": company["Microsoft"]})
	ci("cmdb_ci_service", map[string]string{"name": "Email", "service_classification": "Business Service",
		"busines_criticality": "2 - somewhat critical", "used_for": "Production", "company": company["ACME North America"]})
	ci("cmdb_ci_service_auto", map[string]string{"name": "Identity Provider", "service_classification": "Application Service",
		"busines_criticality": "1 - most critical", "used_for": "Production", "company": company["ACME North America"],
		"department": dept["Security"]})
}
