package snowsim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// Conformance of the Import Set API. c_ImportSetAPI.md is ServiceNow's
// "Import Set API" reference (api-reference/rest-apis, the ServiceNowDocs
// markdown mirror), whose examples give the answers' shapes.

const (
	citeImportPost  = "c_ImportSetAPI.md POST /now/import/{stagingTableName}: 201, import_set, staging_table, result[] {transform_map, table, display_name, display_value, record_link, status, sys_id}"
	citeImportMulti = "c_ImportSetAPI.md POST /now/import/{stagingTableName}/insertMultiple: {records:[...]} keyed by column label by default; answers import_set_id, multi_import_set_id"
	citeImportGet   = "c_ImportSetAPI.md GET /now/import/{stagingTableName}/{sys_id}: the staging record's transform result"
)

type importAnswer struct {
	ImportSet    string           `json:"import_set"`
	StagingTable string           `json:"staging_table"`
	Result       []map[string]any `json:"result"`
}

func (b *bundle) importPost(t *testing.T, user, path, body string) (int, importAnswer, []byte) {
	t.Helper()
	res, raw := b.send(t, http.DefaultClient, user, "POST", path, []byte(body), map[string]string{"Content-Type": "application/json", "Accept": "application/json"})
	var a importAnswer
	_ = json.Unmarshal(raw, &a)
	return res.StatusCode, a, raw
}

func TestConformanceImportSet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const path = "/api/now/import/u_scorebridge_incident_import"
	code, a, raw := b.importPost(t, "admin", path,
		`{"u_short_description":"Enable MFA for admins","u_impact":"1","u_urgency":"2","u_caller":"beth.anglin","u_assignment_group":"Service Desk","u_correlation_id":"sb-42"}`)
	if code != 201 || a.ImportSet != "ISET0010001" || a.StagingTable != "u_scorebridge_incident_import" || len(a.Result) != 1 {
		t.Fatalf("[%s] %d %s", citeImportPost, code, raw)
	}
	r := a.Result[0]
	id, _ := r["sys_id"].(string)
	for k, v := range map[string]any{"transform_map": "ScoreBridge Incident", "table": "incident", "display_name": "number",
		"display_value": "INC0010001", "status": "inserted", "record_link": b.srv.URL + "/api/now/table/incident/" + id} {
		if r[k] != v {
			t.Errorf("[%s] %s = %#v, want %#v", citeImportPost, k, r[k], v)
		}
	}
	inc, ok := b.in.Get("incident", id)
	if !ok || inc["short_description"] != "Enable MFA for admins" || inc["priority"] != "2" || inc["correlation_id"] != "sb-42" ||
		inc["caller_id"] != userID(t, b.in, snowsim.UserITIL) || inc["assignment_group"] == "" {
		t.Fatalf("[%s] the target record: %v", citeImportPost, inc)
	}

	t.Run("coalesce updates", func(t *testing.T) {
		code, a, raw := b.importPost(t, "admin", path, `{"u_correlation_id":"sb-42","u_state":"2"}`)
		if code != 201 || a.ImportSet != "ISET0010001" || a.Result[0]["status"] != "updated" || a.Result[0]["sys_id"] != id {
			t.Fatalf("[%s; status updated on a coalesce match, the same web service import set] %d %s", citeImportPost, code, raw)
		}
		if inc, _ := b.in.Get("incident", id); inc["state"] != "2" {
			t.Fatalf("state %q", inc["state"])
		}
		code, a, raw = b.importPost(t, "admin", path, `{"u_correlation_id":"sb-42","u_state":"2"}`)
		if code != 201 || a.Result[0]["status"] != "ignored" {
			t.Fatalf("[%s; status ignored when nothing changes] %d %s", citeImportPost, code, raw)
		}
	})
	t.Run("refused by the target", func(t *testing.T) {
		b.in.SetDataPolicy(true)
		defer b.in.SetDataPolicy(false)
		code, a, raw := b.importPost(t, "admin", path, `{"u_short_description":"resolved at once","u_state":"6"}`)
		if code != 201 || a.Result[0]["status"] != "error" || !strings.Contains(a.Result[0]["status_message"].(string), "Data Policy") {
			t.Fatalf("[%s; status error with status_message] %d %s", citeImportPost, code, raw)
		}
	})
	t.Run("GET the row", func(t *testing.T) {
		rows, err := b.in.Query("u_scorebridge_incident_import", "u_correlation_id=sb-42^ORDERBYsys_import_row")
		if err != nil || len(rows) != 3 {
			t.Fatalf("staging rows: %d %v", len(rows), err)
		}
		res, raw := b.send(t, http.DefaultClient, "admin", "GET", path+"/"+rows[0]["sys_id"], nil, nil)
		var a importAnswer
		if err := json.Unmarshal(raw, &a); res.StatusCode != 200 || err != nil || a.ImportSet != "ISET0010001" ||
			len(a.Result) != 1 || a.Result[0]["sys_id"] != id || a.Result[0]["transform_map"] != "ScoreBridge Incident" {
			t.Fatalf("[%s] %d %s", citeImportGet, res.StatusCode, raw)
		}
		res, _ = b.send(t, http.DefaultClient, "admin", "GET", path+"/0123456789abcdef0123456789abcdef", nil, nil)
		if res.StatusCode != 404 {
			t.Fatalf("[%s: 404 when the result no longer exists] %d", citeImportGet, res.StatusCode)
		}
	})
	t.Run("v2 record link", func(t *testing.T) {
		code, a, raw := b.importPost(t, "admin", "/api/now/v2/import/u_scorebridge_incident_import", `{"u_short_description":"v2"}`)
		if code != 201 || !strings.HasPrefix(a.Result[0]["record_link"].(string), b.srv.URL+"/api/now/v2/table/incident/") {
			t.Fatalf("[%s; issue 11: links carry the request's API version] %d %s", citeImportPost, code, raw)
		}
	})
	t.Run("not a staging table", func(t *testing.T) {
		if code, _, raw := b.importPost(t, "admin", "/api/now/import/incident", `{"short_description":"x"}`); code != 400 {
			t.Fatalf("[c_ImportSetAPI.md stagingTableName: an import set table] %d %s", code, raw)
		}
	})
	t.Run("roles", func(t *testing.T) {
		if code, _, raw := b.importPost(t, snowsim.UserITIL, path, `{"u_short_description":"x"}`); code != 403 {
			t.Fatalf("[c_ImportSetAPI.md Security: ACLs defined on tables are still enforced] itil: %d %s", code, raw)
		}
	})
}

func TestConformanceImportSetInsertMultiple(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := `{"records":[
		{"Short description":"Patch OpenSSL","Impact":"2","Urgency":"2","Correlation ID":"m-1"},
		{"u_short_description":"Rotate keys","u_correlation_id":"m-2"}]}`
	res, raw := b.send(t, http.DefaultClient, "admin", "POST", "/api/now/import/u_scorebridge_incident_import/insertMultiple",
		[]byte(body), map[string]string{"Content-Type": "application/json"})
	var a map[string]string
	if err := json.Unmarshal(raw, &a); res.StatusCode != 201 || err != nil || !sysIDRe.MatchString(a["import_set_id"]) || !sysIDRe.MatchString(a["multi_import_set_id"]) {
		t.Fatalf("[%s] %d %s", citeImportMulti, res.StatusCode, raw)
	}
	for _, c := range []string{"m-1", "m-2"} {
		rows, err := b.in.Query("incident", "correlation_id="+c)
		if err != nil || len(rows) != 1 {
			t.Fatalf("[%s] incident %s: %d %v", citeImportMulti, c, len(rows), err)
		}
		if c == "m-1" && (rows[0]["short_description"] != "Patch OpenSSL" || rows[0]["priority"] != "3") {
			t.Fatalf("[%s] keyed by label: %v", citeImportMulti, rows[0])
		}
	}
	staged, _ := b.in.Query("u_scorebridge_incident_import", "sys_import_set="+a["import_set_id"])
	if len(staged) != 2 || staged[0]["sys_import_state"] != "inserted" {
		t.Fatalf("[%s] staging rows of the set: %v", citeImportMulti, staged)
	}
	res, raw = b.send(t, http.DefaultClient, "admin", "POST", "/api/now/import/u_scorebridge_incident_import/insertMultiple",
		[]byte(`[{"u_short_description":"x"}]`), map[string]string{"Content-Type": "application/json"})
	if res.StatusCode != 400 {
		t.Fatalf("[%s: the body is {records:[...]}] %d %s", citeImportMulti, res.StatusCode, raw)
	}
}
