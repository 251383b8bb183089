package snowsim_test

import (
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Conformance of the data dictionary: the problem table and its state
// model, choice display values read from sys_choice, the reference tables
// and sys_audit_delete.

const (
	// citeProblemModel: the best practice problem state model of every
	// instance since Madrid.
	citeProblemModel = "understanding-state-mgmt-transitions.md (Madrid problem state model); values 101-107 as in ansible-collections/servicenow.itsm plugins/module_utils/problem.py"
	// citeProblemSample: a real instance's problem record, captured as the
	// RETURN sample of the ansible problem module.
	citeProblemSample = "ansible-collections/servicenow.itsm plugins/modules/problem.py RETURN sample (a real problem record)"
	citeAuditDelete   = "t_ConSysTablDelAud.md: deletions from tables without the sys_ prefix are audited into sys_audit_delete (tablename, documentkey, payload)"
	citeChoices       = "SERVICENOW.md: labels of choices live in sys_choice (name, element, value, label); instances customise them"
)

func oneProblem(t *testing.T, in *snowsim.Instance) map[string]string {
	t.Helper()
	rec, err := in.Insert("problem", map[string]string{"short_description": "Unable to send or receive emails."})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"prb": rec["sys_id"]}
}

func wantFields(t *testing.T, cite string, rec map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got, ok := rec[k]; !ok || !jsonSame(got, v) {
			t.Errorf("[%s] %s = %#v, want %#v", cite, k, got, v)
		}
	}
}

func jsonSame(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok != bok {
		return false
	}
	if !aok {
		return a == b
	}
	if len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if !jsonSame(v, bm[k]) {
			return false
		}
	}
	return true
}

func TestConformanceDictionary(t *testing.T) {
	t.Parallel()
	runCases(t, []tcase{
		{name: "problem create", cite: citeProblemSample,
			req: asAdmin("POST", "/api/now/table/problem", `{"short_description":"Unable to send or receive emails."}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				wantFields(t, citeProblemSample, result(t, r), map[string]any{
					"number": "PRB0040001", "state": "101", "problem_state": "101", "impact": "3", "urgency": "3",
					"priority": "5", "known_error": "false", "major_problem": "false", "workaround_applied": "false",
					"related_incidents": "0", "reopen_count": "0", "approval": "not requested", "escalation": "0",
					"upon_approval": "proceed", "upon_reject": "cancel", "made_sla": "true", "active": "true",
					"reassignment_count": "0", "sys_domain_path": "/", "task_effective_number": "PRB0040001",
					"sys_class_name": "problem", "resolution_code": "", "cause_notes": "", "fix_notes": "",
					"workaround": "", "duplicate_of": "", "first_reported_by_task": "", "business_duration": "",
					"comments_and_work_notes": "", "work_notes_list": "", "sla_due": "", "cmdb_ci": "", "company": "", "location": "",
				})
			}},
		{name: "problem display values", cite: citeProblemModel, setup: oneProblem,
			req: asAdmin("GET", "/api/now/table/problem/{prb}?sysparm_display_value=true&sysparm_fields=state,problem_state,priority,sys_class_name,approval", ""), status: 200,
			body: `{"result":{"state":"New","problem_state":"New","priority":"5 - Planning","sys_class_name":"Problem","approval":"Not Yet Requested"}}`},
		{name: "problem resolve needs nothing without the data policy; resolving stamps resolved_at", cite: citeProblemModel, setup: oneProblem,
			req: asAdmin("PATCH", "/api/now/table/problem/{prb}?sysparm_display_value=all&sysparm_fields=state,active,resolved_at,resolution_code",
				`{"state":"106","resolution_code":"fix_applied"}`), status: 200,
			body: `{"result":{"state":{"display_value":"Resolved","value":"106"},"active":{"display_value":"true","value":"true"},` +
				`"resolved_at":{"display_value":"2026-11-25 04:00:00","value":"2026-11-25 12:00:00"},` +
				`"resolution_code":{"display_value":"Fix Applied","value":"fix_applied"}}}`},
		{name: "problem close makes it inactive", cite: citeProblemModel, setup: oneProblem,
			req: asAdmin("PATCH", "/api/now/table/problem/{prb}?sysparm_fields=state,problem_state,active,closed_at",
				`{"state":"107","resolution_code":"fix_applied"}`), status: 200,
			body: `{"result":{"state":"107","problem_state":"107","active":"false","closed_at":"2026-11-25 12:00:00"}}`},
		{name: "problem_state moves state", cite: "ansible-collections/servicenow.itsm plugins/modules/problem.py: writing problem_state is how a client moves a problem", setup: oneProblem,
			req: asAdmin("PATCH", "/api/now/table/problem/{prb}?sysparm_fields=state,problem_state", `{"problem_state":"103"}`), status: 200,
			body: `{"result":{"state":"103","problem_state":"103"}}`},
		{name: "problem list by state label", cite: "c_TableAPI.md name-value filters take display values of choices", setup: oneProblem,
			req: asAdmin("GET", "/api/now/table/problem?state=New&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"PRB0040001"}]}`},
		{name: "problem through task", cite: "SERVICENOW.md: extended tables are visible through the parent (task)", setup: oneProblem,
			req: asAdmin("GET", "/api/now/table/task?sysparm_fields=number,sys_class_name&sysparm_display_value=true", ""), status: 200,
			body: `{"result":[{"number":"PRB0040001","sys_class_name":"Problem"}]}`},
		{name: "incident choice display values", cite: citeChoices, setup: oneIncident,
			req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_display_value=true&sysparm_fields=severity,approval,escalation,sys_class_name,notify,upon_approval,upon_reject,state,impact", ""), status: 200,
			body: `{"result":{"severity":"3 - Low","approval":"Not Yet Requested","escalation":"Normal","sys_class_name":"Incident","notify":"Do Not Notify",` +
				`"upon_approval":"Proceed to Next Task","upon_reject":"Cancel all future Tasks","state":"New","impact":"2 - Medium"}}`},
		{name: "customised choice list changes the display value", cite: citeChoices,
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				rows, err := in.Query("sys_choice", "name=incident^element=severity^value=3")
				if err != nil || len(rows) != 1 {
					t.Fatalf("severity 3 choice: %v %d", err, len(rows))
				}
				if _, err := in.Update("sys_choice", rows[0]["sys_id"], map[string]string{"label": "3 - Minor"}); err != nil {
					t.Fatal(err)
				}
				if _, err := in.Insert("sys_choice", map[string]string{"name": "incident", "element": "escalation", "value": "0", "label": "Routine"}); err != nil {
					t.Fatal(err)
				}
				return oneIncident(t, in)
			},
			req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_display_value=true&sysparm_fields=severity,escalation", ""), status: 200,
			body: `{"result":{"severity":"3 - Minor","escalation":"Routine"}}`},
		{name: "change choice display values", cite: citeChoices,
			req: asAdmin("POST", "/api/now/table/change_request?sysparm_display_value=true&sysparm_fields=number,phase,sys_class_name,type,risk",
				`{"short_description":"Patch"}`), status: 201,
			body: `{"result":{"number":"CHG0030001","phase":"Requested","sys_class_name":"Change Request","type":"Normal","risk":"Moderate"}}`},

		// --- Reference tables ---
		{name: "cmdb_ci lists its classes", cite: "c_TableAPI.md: a table's list includes the records of the tables extending it (cmdb_ci and its classes)",
			req: asAdmin("GET", "/api/now/table/cmdb_ci?sysparm_fields=name,sys_class_name&sysparm_query=ORDERBYname", ""), status: 200,
			body: `{"result":[{"name":"Email","sys_class_name":"cmdb_ci_service"},{"name":"EXCH-SD-05","sys_class_name":"cmdb_ci_win_server"},` +
				`{"name":"Identity Provider","sys_class_name":"cmdb_ci_service_auto"},{"name":"lnux100","sys_class_name":"cmdb_ci_linux_server"},` +
				`{"name":"lnux101","sys_class_name":"cmdb_ci_linux_server"}]}`},
		{name: "cmdb_ci readable by itil", cite: "Fulfillers (itil) read the CMDB to pick a configuration item",
			req: as(snowsim.UserITIL, "GET", "/api/now/table/cmdb_ci_server?sysparm_fields=name&sysparm_limit=1", ""), status: 200,
			body: `{"result":[{"name":"lnux100"}]}`},
		{name: "reference to a CI, company and location", cite: "SERVICENOW.md Reference fields: {display_value, link, value}, link to the referenced table",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				ci, _ := in.Query("cmdb_ci", "name=lnux100")
				co, _ := in.Query("core_company", "name=ACME North America")
				lo, _ := in.Query("cmn_location", "name=New York")
				svc, _ := in.Query("cmdb_ci_service", "name=Email")
				v := map[string]string{"ci": ci[0]["sys_id"], "co": co[0]["sys_id"], "lo": lo[0]["sys_id"], "svc": svc[0]["sys_id"]}
				v["inc"] = mkIncident(t, in, map[string]string{"short_description": "x", "cmdb_ci": v["ci"], "company": v["co"], "location": v["lo"], "business_service": v["svc"]})
				return v
			},
			req: asAdmin("GET", "/api/now/v2/table/incident/{inc}?sysparm_display_value=all&sysparm_fields=cmdb_ci,company,location,business_service", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				rec := result(t, r)
				for field, want := range map[string][3]string{
					"cmdb_ci": {"lnux100", "cmdb_ci", v["ci"]}, "company": {"ACME North America", "core_company", v["co"]},
					"location": {"New York", "cmn_location", v["lo"]}, "business_service": {"Email", "cmdb_ci_service", v["svc"]},
				} {
					m, ok := rec[field].(map[string]any)
					if !ok {
						t.Fatalf("%s = %#v, want a reference", field, rec[field])
					}
					if m["display_value"] != want[0] || m["value"] != want[2] || !strings.HasSuffix(m["link"].(string), "/api/now/v2/table/"+want[1]+"/"+want[2]) {
						t.Errorf("%s = %#v, want %v", field, m, want)
					}
				}
			}},

		// --- Reference links carry the request's API version ---
		{name: "v2 link in raw mode", cite: "issue 11: a v2 request's reference links point at /api/now/v2/table/", setup: callerIncident,
			req: asAdmin("GET", "/api/now/v2/table/incident/{inc}?sysparm_fields=caller_id", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				link := result(t, r)["caller_id"].(map[string]any)["link"].(string)
				if !strings.HasSuffix(link, "/api/now/v2/table/sys_user/"+v["beth"]) {
					t.Fatalf("link %s", link)
				}
			}},
		{name: "v1 link in display mode", cite: "issue 11: reference links carry the request's API version in every display mode", setup: callerIncident,
			req: asAdmin("GET", "/api/now/v1/table/incident/{inc}?sysparm_fields=caller_id&sysparm_display_value=true", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				link := result(t, r)["caller_id"].(map[string]any)["link"].(string)
				if !strings.HasSuffix(link, "/api/now/v1/table/sys_user/"+v["beth"]) {
					t.Fatalf("link %s", link)
				}
			}},
		{name: "unversioned link", cite: "SERVICENOW.md Reference fields: link https://.../api/now/table/sys_user/<id>", setup: callerIncident,
			req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_fields=caller_id&sysparm_display_value=all", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				link := result(t, r)["caller_id"].(map[string]any)["link"].(string)
				if !strings.HasSuffix(link, "/api/now/table/sys_user/"+v["beth"]) {
					t.Fatalf("link %s", link)
				}
			}},

		// --- Deleted records ---
		{name: "deleting an incident records it", cite: citeAuditDelete,
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				v := oneIncident(t, in)
				if err := in.Delete("incident", v["inc"]); err != nil {
					t.Fatal(err)
				}
				return v
			},
			req: asAdmin("GET", "/api/now/table/sys_audit_delete?sysparm_query=tablename=incident^sys_created_on>=2026-11-25%2000:00:00&sysparm_fields=tablename,documentkey,display_value,sys_created_on,payload", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				rows := results(t, r)
				if len(rows) != 1 {
					t.Fatalf("%d rows", len(rows))
				}
				row := rows[0].(map[string]any)
				wantFields(t, citeAuditDelete, row, map[string]any{"tablename": "incident", "documentkey": v["inc"],
					"display_value": "INC0010001", "sys_created_on": "2026-11-25 12:00:00"})
				p, _ := row["payload"].(string)
				for _, frag := range []string{`<record_update table="incident">`, `<incident action="DELETE">`,
					"<number>INC0010001</number>", "<short_description>VPN down</short_description>", "<sys_id>" + v["inc"] + "</sys_id>"} {
					if !strings.Contains(p, frag) {
						t.Errorf("payload lacks %s: %s", frag, p)
					}
				}
			}},
		{name: "change and problem deletions are recorded", cite: citeAuditDelete,
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				c, _ := in.Insert("change_request", map[string]string{"short_description": "c"})
				p := oneProblem(t, in)
				for table, id := range map[string]string{"change_request": c["sys_id"], "problem": p["prb"]} {
					if err := in.Delete(table, id); err != nil {
						t.Fatal(err)
					}
				}
				return nil
			},
			req: asAdmin("GET", "/api/now/table/sys_audit_delete?sysparm_query=tablenameINchange_request,problem^ORDERBYtablename&sysparm_fields=tablename,display_value", ""), status: 200,
			body: `{"result":[{"tablename":"change_request","display_value":"CHG0030001"},{"tablename":"problem","display_value":"PRB0040001"}]}`},
		{name: "sys_ tables are not audited by default", cite: "t_ConSysTablDelAud.md: deletions from tables with a sys_ prefix are not audited by default",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				c, err := in.Insert("sys_choice", map[string]string{"name": "incident", "element": "category", "value": "x", "label": "X"})
				if err != nil {
					t.Fatal(err)
				}
				if err := in.Delete("sys_choice", c["sys_id"]); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			req: asAdmin("GET", "/api/now/table/sys_audit_delete", ""), status: 200, body: `{"result":[]}`},
		{name: "sys_audit_delete is an admin table", cite: "granular-admin-roles-for-auditing.md: audit tables are admin-only; audit_viewer does not cover sys_audit_delete",
			req: as(snowsim.UserITIL, "GET", "/api/now/table/sys_audit_delete", ""), status: 403,
			body: `{"error":{"message":"Insufficient rights to query records","detail":"Field(s) present in the query do not have permission to be read"},"status":"failure"}`},
	})
}

// TestAuditDeleteThroughAPI deletes as a fulfiller and reads the deletion
// back as admin: sys_created_by names who deleted.
func TestAuditDeleteThroughAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := oneProblem(t, b.in)["prb"]
	if r := b.do(t, as(snowsim.UserITIL, "DELETE", "/api/now/table/problem/"+id, "")); r.status != 204 {
		t.Fatalf("[%s] DELETE %d %s", citeAuditDelete, r.status, r.body)
	}
	r := b.do(t, asAdmin("GET", "/api/now/table/sys_audit_delete?sysparm_query=documentkey="+id+"&sysparm_fields=tablename,sys_created_by", ""))
	jsonEq(t, r.body, `{"result":[{"tablename":"problem","sys_created_by":"beth.anglin"}]}`)
}
