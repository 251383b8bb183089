package snowsim_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// The conformance suite: requests in, responses out, over real HTTP. Every
// case cites the ServiceNow documentation it comes from; SERVICENOW.md is
// shared/docs/SERVICENOW.md, which quotes c_TableAPI.md, c_AggregateAPI.md,
// batch-api.md and r_RESTAPIHTTPResponseCodes.md.

// fixedNow is the instance clock in these tests.
var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type bundle struct {
	in  *snowsim.Instance
	srv *httptest.Server
}

func setup(t *testing.T) *bundle {
	t.Helper()
	in, err := snowsim.New(snowsim.Options{Clock: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	return &bundle{in: in, srv: srv}
}

type request struct {
	method, path string
	user, pass   string // Basic credentials; user "" sends none
	body         string
	header       map[string]string
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (b *bundle) do(t *testing.T, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, b.srv.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.user != "" {
		req.SetBasicAuth(rq.user, rq.pass)
	}
	if rq.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.json)
	}
	return out
}

func asAdmin(method, path, body string) request {
	return request{method: method, path: path, user: "admin", pass: "admin", body: body}
}

func as(user, method, path, body string) request {
	pw := snowsim.DemoPassword
	if user == "admin" {
		pw = "admin"
	}
	return request{method: method, path: path, user: user, pass: pw, body: body}
}

// jsonEq compares a body with the expected JSON text.
func jsonEq(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

func result(t *testing.T, r response) map[string]any {
	t.Helper()
	m, ok := r.json["result"].(map[string]any)
	if !ok {
		t.Fatalf("no result object in %s", r.body)
	}
	return m
}

func results(t *testing.T, r response) []any {
	t.Helper()
	l, ok := r.json["result"].([]any)
	if !ok {
		t.Fatalf("no result list in %s", r.body)
	}
	return l
}

var sysIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// vars substitutes {name} placeholders in a request.
func (rq request) with(vars map[string]string) request {
	for k, v := range vars {
		rq.path = strings.ReplaceAll(rq.path, "{"+k+"}", v)
		rq.body = strings.ReplaceAll(rq.body, "{"+k+"}", v)
	}
	return rq
}

// tcase is one conformance case. setup creates records and returns the
// placeholders the request uses; check inspects the response beyond the
// status and the exact body.
type tcase struct {
	name   string
	cite   string
	setup  func(t *testing.T, in *snowsim.Instance) map[string]string
	req    request
	status int
	body   string // exact JSON, when set
	header map[string]string
	check  func(t *testing.T, r response, vars map[string]string)
}

func mkIncident(t *testing.T, in *snowsim.Instance, v map[string]string) string {
	t.Helper()
	rec, err := in.Insert("incident", v)
	if err != nil {
		t.Fatal(err)
	}
	return rec["sys_id"]
}

func userID(t *testing.T, in *snowsim.Instance, name string) string {
	t.Helper()
	rows, err := in.Query("sys_user", "user_name="+name)
	if err != nil || len(rows) != 1 {
		t.Fatalf("user %s: %v %d", name, err, len(rows))
	}
	return rows[0]["sys_id"]
}

func oneIncident(t *testing.T, in *snowsim.Instance) map[string]string {
	return map[string]string{"inc": mkIncident(t, in, map[string]string{"short_description": "VPN down", "impact": "2", "urgency": "2"})}
}

const (
	notAuth = `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`
	noRec   = `{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}`
)

func TestConformance(t *testing.T) {
	t.Parallel()
	cases := []tcase{
		// --- Authentication ---
		{name: "no credentials", cite: "SERVICENOW.md Table API errors: 401 User Not Authenticated + WWW-Authenticate",
			req: request{method: "GET", path: "/api/now/table/incident"}, status: 401, body: notAuth,
			header: map[string]string{"WWW-Authenticate": `BASIC realm="Service-now"`}},
		{name: "wrong password", cite: "SERVICENOW.md: 401 User Not Authenticated",
			req: request{method: "GET", path: "/api/now/table/incident", user: "admin", pass: "nope"}, status: 401, body: notAuth},
		{name: "inactive user", cite: "issue 3: an inactive user cannot log in (401 as for bad credentials)",
			req: as(snowsim.UserInactive, "GET", "/api/now/table/incident", ""), status: 401, body: notAuth},
		{name: "locked out user", cite: "issue 3: a locked-out user cannot log in",
			req: as(snowsim.UserLocked, "GET", "/api/now/table/incident", ""), status: 401, body: notAuth},
		{name: "bearer without OAuth", cite: "SERVICENOW.md Authentication: an unknown bearer token is 401",
			req: request{method: "GET", path: "/api/now/table/incident", header: map[string]string{"Authorization": "Bearer nope"}}, status: 401, body: notAuth},
		{name: "stats needs auth", cite: "c_AggregateAPI.md: 401 when credentials are missing",
			req: request{method: "GET", path: "/api/now/stats/incident?sysparm_count=true"}, status: 401, body: notAuth},
		{name: "batch needs auth", cite: "batch-api.md status codes: 401 Unauthorized",
			req: request{method: "POST", path: "/api/now/v1/batch", body: `{}`}, status: 401, body: notAuth},

		// --- Table API basics ---
		{name: "empty list", cite: "SERVICENOW.md: a list query with no rows gives 200 {\"result\":[]}",
			req: asAdmin("GET", "/api/now/table/incident", ""), status: 200, body: `{"result":[]}`,
			header: map[string]string{"X-Total-Count": "0"}},
		{name: "empty list v1", cite: "SERVICENOW.md: only v2 and unversioned give 200 for no rows; v1 answers 404",
			req: asAdmin("GET", "/api/now/v1/table/incident", ""), status: 404,
			body: `{"error":{"message":"No Record found","detail":"Records matching query not found. Check query parameter or offset parameter"},"status":"failure"}`},
		{name: "change priority is its own field", cite: "def-prio-lookup-rules.md: the priority lookup is an incident rule; change_request keeps the priority sent",
			req: asAdmin("POST", "/api/now/table/change_request", `{"short_description":"x","priority":"2","impact":"3","urgency":"3"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				if p := result(t, r)["priority"]; p != "2" {
					t.Fatalf("priority %v", p)
				}
			}},
		{name: "invalid table", cite: "SERVICENOW.md: 400 Invalid table <name>",
			req: asAdmin("GET", "/api/now/table/no_such_table", ""), status: 400,
			body: `{"error":{"message":"Invalid table no_such_table","detail":null},"status":"failure"}`},
		{name: "invalid table on POST", cite: "SERVICENOW.md: 400 Invalid table <name>",
			req: asAdmin("POST", "/api/now/table/no_such_table", `{"a":"b"}`), status: 400,
			body: `{"error":{"message":"Invalid table no_such_table","detail":null},"status":"failure"}`},
		{name: "unknown sys_id", cite: "c_TableAPI.md GET /now/table/{tableName}/{sys_id}: 404 No Record found",
			req: asAdmin("GET", "/api/now/table/incident/0123456789abcdef0123456789abcdef", ""), status: 404, body: noRec},
		{name: "unknown sys_id PATCH", cite: "SERVICENOW.md: an unknown sys_id is 404",
			req: asAdmin("PATCH", "/api/now/table/incident/0123456789abcdef0123456789abcdef", `{"state":"2"}`), status: 404, body: noRec},
		{name: "unknown sys_id DELETE", cite: "SERVICENOW.md: an unknown sys_id is 404",
			req: asAdmin("DELETE", "/api/now/table/incident/0123456789abcdef0123456789abcdef", ""), status: 404, body: noRec},
		{name: "unknown API path", cite: "r_RESTAPIHTTPResponseCodes.md: 400 when the URI matches no API",
			req: asAdmin("GET", "/api/now/nothing_here", ""), status: 400,
			body: `{"error":{"message":"Requested URI does not represent any resource","detail":null},"status":"failure"}`},
		{name: "POST creates", cite: "c_TableAPI.md POST /now/table/{tableName}: 201 Created, Location of the new record",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"Printer on fire","impact":"1","urgency":"2"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				id, _ := rec["sys_id"].(string)
				if !sysIDRe.MatchString(id) {
					t.Fatalf("sys_id %q", id)
				}
				if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/api/now/table/incident/"+id) {
					t.Fatalf("Location %q", loc)
				}
				want := map[string]any{"number": "INC0010001", "state": "1", "priority": "2", "active": "true",
					"sys_mod_count": "0", "sys_created_on": "2026-11-25 12:00:00", "sys_created_by": "admin",
					"sys_class_name": "incident", "work_notes": "", "caller_id": ""}
				for k, v := range want {
					if rec[k] != v {
						t.Errorf("%s = %#v, want %#v", k, rec[k], v)
					}
				}
				for k, v := range rec {
					if _, ok := v.(string); !ok {
						if _, isRef := v.(map[string]any); !isRef {
							t.Errorf("%s is %T, every value must be a string", k, v)
						}
					}
				}
			}},
		{name: "POST v2 path", cite: "SERVICENOW.md: versioned forms /api/now/v2/table/...",
			req: asAdmin("POST", "/api/now/v2/table/change_request", `{"short_description":"Patch firewalls"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				if rec["number"] != "CHG0030001" || rec["state"] != "-5" || rec["type"] != "normal" {
					t.Fatalf("change defaults: number %v state %v type %v", rec["number"], rec["state"], rec["type"])
				}
				if !strings.Contains(r.header.Get("Location"), "/api/now/v2/table/change_request/") {
					t.Fatalf("Location %q", r.header.Get("Location"))
				}
			}},
		{name: "POST task", cite: "issue 3: numbers TASK...",
			req: asAdmin("POST", "/api/now/table/task", `{"short_description":"Review"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				if n := result(t, r)["number"]; n != "TASK0010001" {
					t.Fatalf("number %v", n)
				}
			}},
		{name: "client priority ignored", cite: "SERVICENOW.md incident: priority is computed from impact x urgency (read-only)",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"x","priority":"1","impact":"3","urgency":"2"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				if p := result(t, r)["priority"]; p != "4" {
					t.Fatalf("priority %v, want 4 (impact 3 x urgency 2)", p)
				}
			}},
		{name: "sys fields not writable", cite: "SERVICENOW.md: sys_* fields cannot be written by clients",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"x","sys_created_by":"mallory","sys_mod_count":"99","number":"INC9999999"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				if rec["sys_created_by"] != "admin" || rec["sys_mod_count"] != "0" {
					t.Fatalf("sys fields written: %v %v", rec["sys_created_by"], rec["sys_mod_count"])
				}
			}},
		{name: "short_description truncated", cite: "SERVICENOW.md: short_description 160 chars; longer is silently truncated",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"`+strings.Repeat("é", 200)+`"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				if sd, _ := result(t, r)["short_description"].(string); len([]rune(sd)) != 160 {
					t.Fatalf("length %d", len([]rune(sd)))
				}
			}},
		{name: "unknown fields ignored on write", cite: "c_TableAPI.md POST: fields not in the table are ignored",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"x","u_nonexistent":"y","urgency":1}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				if _, ok := rec["u_nonexistent"]; ok {
					t.Fatal("unknown field stored")
				}
				if rec["urgency"] != "1" {
					t.Fatalf("JSON number not read as text: %v", rec["urgency"])
				}
			}},
		{name: "malformed JSON", cite: "SERVICENOW.md Payload size: a body that cannot be parsed gets Exception while reading request",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":`), status: 400,
			body: `{"error":{"message":"Exception while reading request","detail":"The payload is not valid JSON."},"status":"failure"}`},
		{name: "wrong content type", cite: "r_RESTAPIHTTPResponseCodes.md: 415 the endpoint does not support the format of the request body",
			req: request{method: "POST", path: "/api/now/table/incident", user: "admin", pass: "admin", body: `<xml/>`,
				header: map[string]string{"Content-Type": "text/plain"}}, status: 415},
		{name: "unacceptable Accept", cite: "r_RESTAPIHTTPResponseCodes.md: 406 the endpoint does not support the Accept format",
			req: request{method: "GET", path: "/api/now/table/incident", user: "admin", pass: "admin",
				header: map[string]string{"Accept": "text/csv"}}, status: 406},
		{name: "method not allowed", cite: "r_RESTAPIHTTPResponseCodes.md: 405 method not allowed",
			req: asAdmin("PATCH", "/api/now/table/incident", `{}`), status: 405},
		{name: "GET one", cite: "c_TableAPI.md GET /now/table/{tableName}/{sys_id}: 200 {\"result\":{...}}", setup: oneIncident,
			req: asAdmin("GET", "/api/now/table/incident/{inc}", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				rec := result(t, r)
				if rec["sys_id"] != v["inc"] || rec["priority"] != "3" {
					t.Fatalf("record %v", rec)
				}
			}},
		{name: "PATCH returns whole record", cite: "SERVICENOW.md: PATCH/PUT 200 with the whole record; sys_mod_count increases", setup: oneIncident,
			req: asAdmin("PATCH", "/api/now/table/incident/{inc}", `{"state":"2","work_notes":"looking"}`), status: 200,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				if rec["state"] != "2" || rec["sys_mod_count"] != "1" || rec["work_notes"] != "" || rec["short_description"] != "VPN down" {
					t.Fatalf("record %v", rec)
				}
			}},
		{name: "PUT updates", cite: "c_TableAPI.md PUT /now/table/{tableName}/{sys_id}", setup: oneIncident,
			req: asAdmin("PUT", "/api/now/table/incident/{inc}", `{"urgency":"1"}`), status: 200,
			check: func(t *testing.T, r response, _ map[string]string) {
				if p := result(t, r)["priority"]; p != "2" {
					t.Fatalf("priority %v after impact 2 x urgency 1", p)
				}
			}},
		{name: "DELETE", cite: "SERVICENOW.md: DELETE 204 and no body", setup: oneIncident,
			req: asAdmin("DELETE", "/api/now/table/incident/{inc}", ""), status: 204,
			check: func(t *testing.T, r response, _ map[string]string) {
				if len(r.body) != 0 {
					t.Fatalf("body %q", r.body)
				}
			}},
		{name: "GET after DELETE", cite: "c_TableAPI.md DELETE then GET /now/table/{tableName}/{sys_id}: 404 Not found",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				v := oneIncident(t, in)
				if err := in.Delete("incident", v["inc"]); err != nil {
					t.Fatal(err)
				}
				return v
			},
			req: asAdmin("GET", "/api/now/table/incident/{inc}", ""), status: 404, body: noRec},
		{name: "record through its parent table", cite: "issue 3: incident visible through task, with task's fields only", setup: callerIncident,
			req: asAdmin("GET", "/api/now/table/task/{inc}", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				rec := result(t, r)
				if rec["sys_class_name"] != "incident" || rec["number"] != "INC0010001" {
					t.Fatalf("record %v", rec)
				}
				if _, ok := rec["caller_id"]; ok {
					t.Fatal("task shows incident's own field caller_id")
				}
			}},
		{name: "record through a sibling table", cite: "c_TableAPI.md: 404 when the record is not in the table", setup: oneIncident,
			req: asAdmin("GET", "/api/now/table/change_request/{inc}", ""), status: 404, body: noRec},
		{name: "resolve deactivates", cite: "SERVICENOW.md incident.state: 6 Resolved; closed tasks are inactive", setup: oneIncident,
			req: asAdmin("PATCH", "/api/now/table/incident/{inc}", `{"state":"6","close_code":"Solution provided","close_notes":"fixed"}`), status: 200,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				if rec["active"] != "false" || rec["resolved_at"] != "2026-11-25 12:00:00" {
					t.Fatalf("active %v resolved_at %v", rec["active"], rec["resolved_at"])
				}
			}},

		// --- XML, the Table API's other format ---
		{name: "XML list", cite: "c_TableAPI.md GET headers: Accept application/json or application/xml; batch-api.md example <response><result>",
			setup: callerIncident, req: request{method: "GET", path: "/api/now/table/incident?sysparm_fields=number,caller_id,description", user: "admin", pass: "admin",
				header: map[string]string{"Accept": "application/xml"}}, status: 200,
			header: map[string]string{"Content-Type": "application/xml;charset=UTF-8"},
			check: func(t *testing.T, r response, v map[string]string) {
				want := `<?xml version="1.0" encoding="UTF-8"?><response><result><caller_id><link>http://`
				if !strings.HasPrefix(string(r.body), want) || !strings.Contains(string(r.body), `<value>`+v["beth"]+`</value></caller_id><description/><number>INC0010001</number></result></response>`) {
					t.Fatalf("body %s", r.body)
				}
			}},
		{name: "XML insert", cite: "c_TableAPI.md POST headers: Content-Type application/json or application/xml",
			req: request{method: "POST", path: "/api/now/table/incident?sysparm_fields=short_description,priority", user: "admin", pass: "admin",
				body:   `<request><entry><short_description>Unable to connect to office wifi &amp; VPN</short_description><urgency>2</urgency><impact>2</impact></entry></request>`,
				header: map[string]string{"Content-Type": "application/xml", "Accept": "application/xml"}}, status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				want := `<?xml version="1.0" encoding="UTF-8"?><response><result><priority>3</priority><short_description>Unable to connect to office wifi &amp; VPN</short_description></result></response>`
				if string(r.body) != want {
					t.Fatalf("body %s", r.body)
				}
			}},
		{name: "XML error", cite: "SERVICENOW.md Table API errors, in the XML form of the envelope",
			req: request{method: "GET", path: "/api/now/table/incident", header: map[string]string{"Accept": "application/xml"}}, status: 401,
			check: func(t *testing.T, r response, _ map[string]string) {
				want := `<?xml version="1.0" encoding="UTF-8"?><response><error><detail>Required to provide Auth information</detail><message>User Not Authenticated</message></error><status>failure</status></response>`
				if string(r.body) != want {
					t.Fatalf("body %s", r.body)
				}
			}},
		{name: "malformed XML", cite: "SERVICENOW.md: a body that cannot be parsed gets Exception while reading request",
			req: request{method: "POST", path: "/api/now/table/incident", user: "admin", pass: "admin", body: `<request><entry>`,
				header: map[string]string{"Content-Type": "application/xml"}}, status: 400,
			body: `{"error":{"message":"Exception while reading request","detail":"The payload is not valid XML."},"status":"failure"}`},

		// --- Display values and references ---
		{name: "reference display false", cite: "SERVICENOW.md Reference fields: display_value=false -> {link, value}",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_fields=caller_id,assignment_group", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				ref := result(t, r)["caller_id"].(map[string]any)
				if ref["value"] != v["beth"] || !strings.HasSuffix(ref["link"].(string), "/api/now/table/sys_user/"+v["beth"]) || len(ref) != 2 {
					t.Fatalf("ref %v", ref)
				}
				if g := result(t, r)["assignment_group"]; g != "" {
					t.Fatalf("empty reference %#v, want \"\"", g)
				}
			}},
		{name: "reference display true", cite: "SERVICENOW.md Reference fields: true -> {display_value, link}",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_display_value=true&sysparm_fields=caller_id,state,priority", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				rec := result(t, r)
				ref := rec["caller_id"].(map[string]any)
				if ref["display_value"] != "Beth Anglin" || len(ref) != 2 || ref["link"] == nil {
					t.Fatalf("ref %v", ref)
				}
				if rec["state"] != "New" || rec["priority"] != "5 - Planning" {
					t.Fatalf("choice labels: %v %v", rec["state"], rec["priority"])
				}
			}},
		{name: "reference display all", cite: "SERVICENOW.md Reference fields: all -> {display_value, link, value}",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_display_value=all&sysparm_fields=caller_id,state", ""), status: 200,
			check: func(t *testing.T, r response, v map[string]string) {
				rec := result(t, r)
				ref := rec["caller_id"].(map[string]any)
				if ref["display_value"] != "Beth Anglin" || ref["value"] != v["beth"] || ref["link"] == nil {
					t.Fatalf("ref %v", ref)
				}
				st := rec["state"].(map[string]any)
				if st["display_value"] != "New" || st["value"] != "1" {
					t.Fatalf("state %v", st)
				}
			}},
		{name: "exclude reference link", cite: "SERVICENOW.md: with sysparm_exclude_reference_link=true a plain string",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_exclude_reference_link=true&sysparm_fields=caller_id", ""), status: 200,
			body: `{"result":{"caller_id":"{beth}"}}`},
		{name: "dot-walked fields", cite: "SERVICENOW.md: dot-walked keys come back literally, e.g. assigned_to.name; unknown names ignored",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_fields=number,caller_id.name,caller_id.email,bogus_field", ""), status: 200,
			body: `{"result":{"number":"INC0010001","caller_id.name":"Beth Anglin","caller_id.email":"beth.anglin@example.com"}}`},
		{name: "input display value", cite: "c_TableAPI.md sysparm_input_display_value: references and choices set by display value",
			req: asAdmin("POST", "/api/now/table/incident?sysparm_input_display_value=true&sysparm_fields=caller_id,state&sysparm_exclude_reference_link=true",
				`{"short_description":"x","caller_id":"Beth Anglin","state":"In Progress"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				if !sysIDRe.MatchString(rec["caller_id"].(string)) || rec["state"] != "2" {
					t.Fatalf("record %v", rec)
				}
			}},
		{name: "dates in user time zone", cite: "SERVICENOW.md Dates: display values are in the session user's time zone",
			setup: oneIncident, req: as(snowsim.UserITIL, "GET", "/api/now/table/incident/{inc}?sysparm_display_value=all&sysparm_fields=sys_created_on", ""), status: 200,
			body: `{"result":{"sys_created_on":{"display_value":"2026-11-25 07:00:00","value":"2026-11-25 12:00:00"}}}`},
		{name: "journal display value", cite: "SERVICENOW.md: journal fields read back as \"\" raw; entries in sys_journal_field",
			setup: journalIncident, req: asAdmin("GET", "/api/now/table/incident/{inc}?sysparm_display_value=true&sysparm_fields=work_notes", ""), status: 200,
			body: `{"result":{"work_notes":"2026-11-25 04:00:00 - System Administrator (Work notes)\nchecked the VPN\n\n"}}`},
		{name: "journal rows", cite: "SERVICENOW.md: work_notes stored in sys_journal_field (element, element_id, name, value)",
			setup: journalIncident, req: asAdmin("GET", "/api/now/table/sys_journal_field?sysparm_query=element_id={inc}&sysparm_fields=element,name,value,sys_created_by", ""), status: 200,
			body: `{"result":[{"element":"work_notes","name":"incident","value":"checked the VPN","sys_created_by":"admin"}]}`},

		// --- Lists, paging, queries ---
		{name: "paging headers", cite: "SERVICENOW.md Paging: X-Total-Count; Link rel first/prev/next/last repeating every parameter",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_query=active%3Dtrue&sysparm_limit=2&sysparm_offset=2&sysparm_fields=number", ""), status: 200,
			header: map[string]string{"X-Total-Count": "5"},
			check: func(t *testing.T, r response, _ map[string]string) {
				link := r.header.Get("Link")
				base := "/api/now/table/incident?sysparm_query=active%3Dtrue&sysparm_limit=2&sysparm_fields=number&sysparm_offset="
				for _, want := range []string{base + `0>;rel="first"`, base + `0>;rel="prev"`, base + `4>;rel="next"`, base + `4>;rel="last"`} {
					if !strings.Contains(link, want) {
						t.Errorf("Link %q lacks %q", link, want)
					}
				}
				l := results(t, r)
				if len(l) != 2 || l[0].(map[string]any)["number"] != "INC0010003" {
					t.Fatalf("page %v", l)
				}
			}},
		{name: "no count, no pagination header", cite: "c_TableAPI.md sysparm_no_count, sysparm_suppress_pagination_header",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_no_count=true&sysparm_suppress_pagination_header=true&sysparm_limit=1", ""), status: 200,
			check: func(t *testing.T, r response, _ map[string]string) {
				if r.header.Get("X-Total-Count") != "" || r.header.Get("Link") != "" {
					t.Fatalf("headers %v", r.header)
				}
			}},
		{name: "Link without count", cite: "c_TableAPI.md sysparm_no_count: no count, so no X-Total-Count and no last page",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_no_count=true&sysparm_limit=2", ""), status: 200,
			check: func(t *testing.T, r response, _ map[string]string) {
				link := r.header.Get("Link")
				if r.header.Get("X-Total-Count") != "" || !strings.Contains(link, `sysparm_offset=2>;rel="next"`) || strings.Contains(link, `rel="last"`) {
					t.Fatalf("X-Total-Count %q Link %q", r.header.Get("X-Total-Count"), link)
				}
			}},
		{name: "passwords never rendered", cite: "SERVICENOW.md: secrets never in an answer (user_password is a one-way hash)",
			req: asAdmin("GET", "/api/now/table/sys_user?sysparm_query=user_name=admin&sysparm_fields=user_name,user_password", ""), status: 200,
			body: `{"result":[{"user_name":"admin","user_password":""}]}`},
		{name: "encoded query OR and ORDERBYDESC", cite: "SERVICENOW.md Encoded queries: ^OR, ORDERBYDESC",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_query=priority=1%5EORpriority=5%5EORDERBYDESCnumber&sysparm_fields=number,priority", ""), status: 200,
			body: `{"result":[{"number":"INC0010005","priority":"5"},{"number":"INC0010001","priority":"1"}]}`},
		{name: "encoded query NQ", cite: "SERVICENOW.md Encoded queries: ^NQ (OR of whole groups)",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_query=priority=1%5Eactive=true%5ENQshort_descriptionLIKEPRINTER&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"INC0010001"},{"number":"INC0010004"}]}`},
		{name: "unknown field ignored", cite: "SERVICENOW.md: a term naming an unknown field is silently ignored",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_query=u_bogus=1%5Epriority=1&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"INC0010001"}]}`},
		{name: "numeric comparison", cite: "SERVICENOW.md: state, priority compare as numbers",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/table/incident?sysparm_query=priority%3E%3D4%5EORDERBYpriority&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"INC0010004"},{"number":"INC0010005"}]}`},
		{name: "dot-walk query", cite: "SERVICENOW.md: dot-walking (caller_id.name=Fred)",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident?sysparm_query=caller_id.name=Beth%20Anglin&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"INC0010001"}]}`},
		{name: "dateGenerate in user zone", cite: "SERVICENOW.md: javascript:gs.dateGenerate is read in the session user's time zone",
			// 12:00 UTC is 07:00 in New York: created >= 06:30 local matches, >= 07:30 local does not.
			setup: oneIncident, req: as(snowsim.UserITIL, "GET", "/api/now/table/incident?sysparm_query=sys_created_on%3E%3Djavascript:gs.dateGenerate('2026-11-25','07:30:00')", ""), status: 200,
			body: `{"result":[]}`},
		{name: "name-value pair filters", cite: "c_TableAPI.md GET: name-value pairs instead of sysparm_query; display values for choice and reference fields",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident?active=true&state=New&caller_id=beth.anglin&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"INC0010001"}]}`},
		{name: "name-value pair filters exclude", cite: "c_TableAPI.md GET: name-value pairs filter the result set",
			setup: callerIncident, req: asAdmin("GET", "/api/now/table/incident?state=Closed&sysparm_fields=number", ""), status: 200,
			body: `{"result":[]}`},
		{name: "X-no-response-body", cite: "c_TableAPI.md PATCH/POST headers: X-no-response-body suppresses the body", setup: oneIncident,
			req: request{method: "PATCH", path: "/api/now/table/incident/{inc}", user: "admin", pass: "admin", body: `{"state":"2"}`,
				header: map[string]string{"X-no-response-body": "true"}}, status: 200,
			check: func(t *testing.T, r response, _ map[string]string) {
				if len(r.body) != 0 {
					t.Fatalf("body %s", r.body)
				}
			}},
		{name: "sys_domain is a reference", cite: "c_TableAPI.md POST example: sys_domain {link .../sys_user_group/global, value global}",
			req: asAdmin("POST", "/api/now/table/incident?sysparm_fields=sys_domain,category,reopen_count", `{"short_description":"x"}`), status: 201,
			check: func(t *testing.T, r response, _ map[string]string) {
				rec := result(t, r)
				d, _ := rec["sys_domain"].(map[string]any)
				if d["value"] != "global" || !strings.HasSuffix(d["link"].(string), "/api/now/table/sys_user_group/global") {
					t.Fatalf("sys_domain %v", rec["sys_domain"])
				}
				if rec["category"] != "inquiry" || rec["reopen_count"] != "0" {
					t.Fatalf("defaults %v", rec)
				}
			}},
		{name: "gs.getUserID", cite: "c_TableAPI.md sysparm_query example: caller_id=javascript:gs.getUserID()^active=true",
			setup: callerIncident, req: as(snowsim.UserITIL, "GET", "/api/now/table/incident?sysparm_query=caller_id=javascript:gs.getUserID()%5Eactive=true&sysparm_fields=number", ""), status: 200,
			body: `{"result":[{"number":"INC0010001"}]}`},
		{name: "task shows extended tables", cite: "issue 3: incident and change_request are visible through task",
			setup: mixedTasks, req: asAdmin("GET", "/api/now/table/task?sysparm_fields=number,sys_class_name&sysparm_query=ORDERBYnumber", ""), status: 200,
			body: `{"result":[{"number":"CHG0030001","sys_class_name":"change_request"},{"number":"INC0010001","sys_class_name":"incident"}]}`},

		// --- ACLs ---
		{name: "itil reads incidents", cite: "issue 3 ACLs: itil can read incident",
			req: as(snowsim.UserITIL, "GET", "/api/now/table/incident", ""), status: 200},
		{name: "no role list", cite: "SERVICENOW.md: 403 Insufficient rights to query records",
			req: as(snowsim.UserNoRoles, "GET", "/api/now/table/incident", ""), status: 403,
			body: `{"error":{"message":"Insufficient rights to query records","detail":"Field(s) present in the query do not have permission to be read"},"status":"failure"}`},
		{name: "no role single read", cite: "SERVICENOW.md: 404 Record doesn't exist or ACL restricts the record retrieval", setup: oneIncident,
			req: as(snowsim.UserNoRoles, "GET", "/api/now/table/incident/{inc}", ""), status: 404, body: noRec},
		{name: "no role insert", cite: "SERVICENOW.md: 403 Operation Failed / ACL Exception Insert Failed due to security constraints",
			req: as(snowsim.UserNoRoles, "POST", "/api/now/table/incident", `{"short_description":"x"}`), status: 403,
			body: `{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}`},
		{name: "no role update", cite: "SERVICENOW.md: Update likewise", setup: oneIncident,
			req: as(snowsim.UserNoRoles, "PATCH", "/api/now/table/incident/{inc}", `{"state":"2"}`), status: 403,
			body: `{"error":{"message":"Operation Failed","detail":"ACL Exception Update Failed due to security constraints"},"status":"failure"}`},
		{name: "itil cannot delete users", cite: "SERVICENOW.md: Delete likewise",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				return map[string]string{"u": userID(t, in, snowsim.UserNoRoles)}
			},
			req: as(snowsim.UserITIL, "DELETE", "/api/now/table/sys_user/{u}", ""), status: 403,
			body: `{"error":{"message":"Operation Failed","detail":"ACL Exception Delete Failed due to security constraints"},"status":"failure"}`},
		{name: "itil cannot read oauth_entity", cite: "issue 3 ACLs: only admin reads application registries",
			req: as(snowsim.UserITIL, "GET", "/api/now/table/oauth_entity", ""), status: 403},
		{name: "admin reads oauth_entity", cite: "issue 3 ACLs: admin can do everything",
			req: asAdmin("GET", "/api/now/table/oauth_entity", ""), status: 200},
		{name: "cross-scope refusal", cite: "SERVICENOW.md The cross-scope message from the troubleshooting guide",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string { in.SetCrossScopeBlocked(true); return nil },
			req:   asAdmin("GET", "/api/now/table/oauth_entity", ""), status: 403,
			body: `{"error":{"message":"Read operation against 'oauth_entity' from scope 'x_scorebridge' has been refused due to the table's cross-scope access policy","detail":null},"status":"failure"}`},
		{name: "data policy", cite: "SERVICENOW.md: 403 Data Policy Exception: The following fields are mandatory",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				in.SetDataPolicy(true)
				return oneIncident(t, in)
			},
			req: asAdmin("PATCH", "/api/now/table/incident/{inc}", `{"state":"6","close_code":"Solution provided"}`), status: 403,
			body: `{"error":{"message":"Data Policy Exception: The following fields are mandatory: Resolution notes","detail":null},"status":"failure"}`},
		{name: "data policy change", cite: "SERVICENOW.md: change close_code successful | successful_issues | unsuccessful",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				in.SetDataPolicy(true)
				rec, err := in.Insert("change_request", map[string]string{"short_description": "c"})
				if err != nil {
					t.Fatal(err)
				}
				return map[string]string{"chg": rec["sys_id"]}
			},
			req: asAdmin("PATCH", "/api/now/table/change_request/{chg}", `{"state":"3"}`), status: 403,
			body: `{"error":{"message":"Data Policy Exception: The following fields are mandatory: Close code, Close notes","detail":null},"status":"failure"}`},
		{name: "choices readable by itil", cite: "SERVICENOW.md: labels of choices live in sys_choice",
			req: as(snowsim.UserITIL, "GET", "/api/now/table/sys_choice?sysparm_query=name=change_request%5Eelement=close_code%5EORDERBYsequence&sysparm_fields=value,label", ""), status: 200,
			body: `{"result":[{"value":"successful","label":"Successful"},{"value":"successful_issues","label":"Successful with issues"},{"value":"unsuccessful","label":"Unsuccessful"}]}`},

		{name: "password set as actual value", cite: "c_TableAPI.md sysparm_input_display_value: hashed fields are only set properly as display values",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				srv := httptest.NewServer(in)
				defer srv.Close()
				for name, q := range map[string]string{"raw.user": "", "shown.user": "?sysparm_input_display_value=true"} {
					req, _ := http.NewRequest("POST", srv.URL+"/api/now/table/sys_user"+q, strings.NewReader(`{"user_name":"`+name+`","user_password":"Pa55-word!"}`))
					req.SetBasicAuth("admin", "admin")
					req.Header.Set("Content-Type", "application/json")
					res, err := http.DefaultClient.Do(req)
					if err != nil || res.StatusCode != 201 {
						t.Fatalf("create %s: %v %v", name, err, res)
					}
					res.Body.Close()
				}
				if _, err := in.BasicLogin("raw.user", "Pa55-word!"); err == nil {
					t.Fatal("a password written as an actual value must not log in")
				}
				return nil
			},
			// The user has no roles, so the list is refused, but the login worked.
			req: request{method: "GET", path: "/api/now/table/incident", user: "shown.user", pass: "Pa55-word!"}, status: 403},

		// --- Aggregate API ---
		{name: "stats count", cite: "SERVICENOW.md Aggregate: without group_by, result is one object; counts are strings",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/stats/incident?sysparm_count=true&sysparm_query=active=true", ""), status: 200,
			body: `{"result":{"stats":{"count":"5"}}}`},
		{name: "stats group by", cite: "SERVICENOW.md Aggregate: sysparm_group_by=state -> groupby_fields",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/stats/incident?sysparm_count=true&sysparm_group_by=priority&sysparm_query=priority%3C%3D2", ""), status: 200,
			body: `{"result":[{"stats":{"count":"1"},"groupby_fields":[{"field":"priority","value":"1"}]},{"stats":{"count":"1"},"groupby_fields":[{"field":"priority","value":"2"}]}]}`},
		{name: "stats group by display", cite: "c_AggregateAPI.md sysparm_display_value",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/stats/incident?sysparm_count=true&sysparm_group_by=state&sysparm_display_value=true", ""), status: 200,
			body: `{"result":[{"stats":{"count":"5"},"groupby_fields":[{"field":"state","value":"New"}]}]}`},

		{name: "stats avg and order by count", cite: "c_AggregateAPI.md sysparm_avg_fields (four decimals), sysparm_order_by=COUNT^DESC",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/stats/incident?sysparm_count=true&sysparm_avg_fields=priority&sysparm_max_fields=urgency&sysparm_group_by=impact&sysparm_order_by=COUNT%5EDESC", ""), status: 200,
			body: `{"result":[
				{"stats":{"count":"2","avg":{"priority":"1.5000"},"max":{"urgency":"2"}},"groupby_fields":[{"field":"impact","value":"1"}]},
				{"stats":{"count":"2","avg":{"priority":"4.5000"},"max":{"urgency":"3"}},"groupby_fields":[{"field":"impact","value":"3"}]},
				{"stats":{"count":"1","avg":{"priority":"3.0000"},"max":{"urgency":"2"}},"groupby_fields":[{"field":"impact","value":"2"}]}]}`},
		{name: "stats name-value filter", cite: "c_AggregateAPI.md: name-value pairs as an alternative to sysparm_query",
			setup: fiveIncidents, req: asAdmin("GET", "/api/now/stats/incident?sysparm_count=true&priority=1", ""), status: 200,
			body: `{"result":{"stats":{"count":"1"}}}`},
		{name: "stats ACL", cite: "c_AggregateAPI.md: only honors read-only queries if read access is defined for the table; 403",
			req: as(snowsim.UserNoRoles, "GET", "/api/now/stats/incident?sysparm_count=true", ""), status: 403},

		// --- Payload size ---
		{name: "max content length property", cite: "KB0747638: glide.rest.max_content_length in MB sets the limit",
			setup: func(t *testing.T, in *snowsim.Instance) map[string]string {
				if _, err := in.Insert("sys_properties", map[string]string{"name": "glide.rest.max_content_length", "value": "1"}); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"`+strings.Repeat("a", 1<<20)+`"}`), status: 400,
			body: `{"error":{"message":"Exception while reading request","detail":"Rejected large REST payload with content-length = 1048600 bytes. Max allowed: 1048576 bytes."},"status":"failure"}`},
		{name: "large payload", cite: "SERVICENOW.md Payload size (KB0747638: a UserException while reading the request)",
			req: asAdmin("POST", "/api/now/table/incident", `{"short_description":"`+strings.Repeat("a", snowsim.MaxPayloadBytes)+`"}`), status: 400,
			body: `{"error":{"message":"Exception while reading request","detail":"Rejected large REST payload with content-length = 10485784 bytes. Max allowed: 10485760 bytes."},"status":"failure"}`},
	}
	runCases(t, cases)
}

// runCases runs conformance cases, each on a fresh instance.
func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			vars := map[string]string{}
			if tc.setup != nil {
				for k, v := range tc.setup(t, b.in) {
					vars[k] = v
				}
			}
			r := b.do(t, tc.req.with(vars))
			if r.status != tc.status {
				t.Fatalf("[%s] status %d, want %d; body %s", tc.cite, r.status, tc.status, r.body)
			}
			for k, v := range tc.header {
				if got := r.header.Get(k); got != v {
					t.Errorf("[%s] header %s = %q, want %q", tc.cite, k, got, v)
				}
			}
			if tc.body != "" {
				want := tc.body
				for k, v := range vars {
					want = strings.ReplaceAll(want, "{"+k+"}", v)
				}
				jsonEq(t, r.body, want)
			}
			if tc.check != nil {
				tc.check(t, r, vars)
			}
		})
	}
}

func callerIncident(t *testing.T, in *snowsim.Instance) map[string]string {
	beth := userID(t, in, snowsim.UserITIL)
	return map[string]string{"beth": beth, "inc": mkIncident(t, in, map[string]string{"short_description": "x", "caller_id": beth})}
}

func journalIncident(t *testing.T, in *snowsim.Instance) map[string]string {
	v := oneIncident(t, in)
	// Written as admin through the API so the journal names the author.
	srv := httptest.NewServer(in)
	defer srv.Close()
	req, _ := http.NewRequest("PATCH", srv.URL+"/api/now/table/incident/"+v["inc"], strings.NewReader(`{"work_notes":"checked the VPN"}`))
	req.SetBasicAuth("admin", "admin")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PATCH work_notes: %v %v", err, res)
	}
	res.Body.Close()
	return v
}

// fiveIncidents makes INC0010001..5 with priorities 1..5.
func fiveIncidents(t *testing.T, in *snowsim.Instance) map[string]string {
	iu := [][2]string{{"1", "1"}, {"1", "2"}, {"2", "2"}, {"3", "2"}, {"3", "3"}}
	for i, x := range iu {
		sd := "VPN issue"
		if i == 3 {
			sd = "printer jam"
		}
		mkIncident(t, in, map[string]string{"short_description": sd, "impact": x[0], "urgency": x[1]})
	}
	return nil
}

func mixedTasks(t *testing.T, in *snowsim.Instance) map[string]string {
	mkIncident(t, in, map[string]string{"short_description": "i"})
	if _, err := in.Insert("change_request", map[string]string{"short_description": "c"}); err != nil {
		t.Fatal(err)
	}
	return nil
}

// TestBatch runs the documentation's example shape: a GET and a POST in one
// batch (batch-api.md cURL request), as the batch's caller.
func TestBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := base64.StdEncoding.EncodeToString([]byte(`{"urgency":"1","short_description":"My computer broke"}`))
	body := `{"batch_request_id":"1","rest_requests":[
		{"id":"12","exclude_response_headers":true,"headers":[{"name":"Accept","value":"application/json"}],"url":"/api/now/table/incident?sysparm_limit=1","method":"GET"},
		{"id":"13","exclude_response_headers":false,"headers":[{"name":"Content-Type","value":"application/json"},{"name":"Accept","value":"application/json"}],"url":"/api/now/table/incident","method":"POST","body":"` + post + `"},
		{"id":"14","url":"/api/now/table/nope","method":"GET"},
		{"id":"15","method":"GET"}]}`
	r := b.do(t, asAdmin("POST", "/api/now/v1/batch", body))
	if r.status != 200 {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var br struct {
		BatchRequestID   string `json:"batch_request_id"`
		ServicedRequests []struct {
			ID         string `json:"id"`
			StatusCode int    `json:"status_code"`
			StatusText string `json:"status_text"`
			Body       string `json:"body"`
			Headers    []struct{ Name, Value string }
		} `json:"serviced_requests"`
		UnservicedRequests []string `json:"unserviced_requests"`
	}
	if err := json.Unmarshal(r.body, &br); err != nil {
		t.Fatal(err)
	}
	if br.BatchRequestID != "1" || len(br.ServicedRequests) != 4 || br.UnservicedRequests == nil {
		t.Fatalf("batch %s", r.body)
	}
	got := map[string]int{}
	for _, s := range br.ServicedRequests {
		got[s.ID] = s.StatusCode
	}
	if want := map[string]int{"12": 200, "13": 201, "14": 400, "15": 400}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	created := br.ServicedRequests[1]
	if created.StatusText != "Created" || len(created.Headers) == 0 {
		t.Fatalf("item 13: %+v", created)
	}
	raw, err := base64.StdEncoding.DecodeString(created.Body)
	if err != nil || !strings.Contains(string(raw), `"priority":"3"`) || !strings.Contains(string(raw), `"sys_created_by":"admin"`) {
		t.Fatalf("item 13 body %s (%v)", raw, err)
	}
	if len(br.ServicedRequests[0].Headers) != 0 {
		t.Fatal("exclude_response_headers ignored")
	}
	// Items run with the caller's rights, not their own headers'.
	r = b.do(t, as(snowsim.UserNoRoles, "POST", "/api/now/v1/batch",
		`{"batch_request_id":"2","rest_requests":[{"id":"a","method":"GET","url":"/api/now/table/incident","headers":[{"name":"Authorization","value":"Basic YWRtaW46YWRtaW4="}]}]}`))
	if r.status != 200 || !strings.Contains(string(r.body), `"status_code":403`) {
		t.Fatalf("ACL in batch: %d %s", r.status, r.body)
	}
}
