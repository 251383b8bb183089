package snowsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzEncodedQuery checks that no encoded query makes the parser or the
// evaluator panic, and that the canonical form is a fixed point: encoding a
// parsed query and parsing it again gives the same query.
//
//	go test -run='^$' -fuzz=FuzzEncodedQuery -fuzztime=10s ./snowsim/
func FuzzEncodedQuery(f *testing.F) {
	for _, seed := range []string{
		"active=true^priority=1^short_descriptionLIKEvpn",
		"priority=1^ORpriority=2^NQstate!=7^ORDERBYDESCnumber",
		"caller_id.name=Fred^assignment_group.nameSTARTSWITHServ",
		"sys_created_on>=javascript:gs.dateGenerate('2024-01-31','12:00:00')",
		"stateIN1,2,3^priorityNOT IN4,5^numberENDSWITH1",
		"sys_created_onBETWEENjavascript:gs.dateGenerate('2024-01-01','start')@javascript:gs.dateGenerate('2024-01-31','end')",
		"opened_bySAMEASassigned_to^caller_idNSAMEASopened_by^descriptionISEMPTY^close_notesISNOTEMPTY^impactANYTHING",
		"short_descriptionNOT LIKEfoo^descriptionNOTLIKEbar^^x^EQ",
		"u_bogus=1^ORDERBYpriority^GROUPBYstate",
		"^^^OR^NQ^ORDERBY",
	} {
		f.Add(seed)
	}
	in, err := New(Options{Clock: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	defer in.Close()
	for i, sd := range []string{"VPN down", "printer jam", "vpn slow"} {
		if _, err := in.Insert("incident", map[string]string{"short_description": sd, "impact": "1", "urgency": []string{"1", "2", "3"}[i]}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ParseEncodedQuery(s)
		canon := q.String()
		q2 := ParseEncodedQuery(canon)
		if got := q2.String(); got != canon {
			t.Fatalf("canonical form is not stable:\n in %q\n 1st %q\n 2nd %q", s, canon, got)
		}
		if !reflect.DeepEqual(q, q2) && len(q.Groups) == len(q2.Groups) && len(q.OrderBy) != len(q2.OrderBy) {
			t.Fatalf("order terms lost: %q -> %q", s, canon)
		}
		for _, table := range []string{"incident", "task", "sys_user"} {
			if _, err := in.Query(table, s); err != nil {
				t.Fatalf("query %q on %s: %v", s, table, err)
			}
		}
	})
}

// FuzzBatchDecode checks that no batch body makes the decoder or the Batch
// API panic or answer 5xx, and that a decoded batch survives a round trip.
//
//	go test -run='^$' -fuzz=FuzzBatchDecode -fuzztime=10s ./snowsim/
func FuzzBatchDecode(f *testing.F) {
	body := base64.StdEncoding.EncodeToString([]byte(`{"short_description":"x"}`))
	for _, seed := range []string{
		`{"batch_request_id":"1","rest_requests":[{"id":"1","method":"GET","url":"/api/now/table/incident?sysparm_limit=1"}]}`,
		`{"batch_request_id":"2","rest_requests":[{"id":"2","method":"POST","url":"/api/now/table/incident","body":"` + body + `","headers":[{"name":"Content-Type","value":"application/json"}],"exclude_response_headers":true}]}`,
		`{"rest_requests":[{"id":"3","method":"DELETE","url":"/api/now/table/incident/0123456789abcdef0123456789abcdef"}]}`,
		`{"rest_requests":[{"id":"","method":"","url":""},{"id":"x","method":"GET","url":"http://elsewhere/"}]}`,
		`{"rest_requests":[{"id":"4","method":"GET","url":"/api/now/v1/batch"}]}`,
		`{"rest_requests":null}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	in, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer in.Close()
	f.Fuzz(func(t *testing.T, raw []byte) {
		br, aerr := decodeBatch(raw)
		if aerr != nil {
			if aerr.Status != http.StatusBadRequest {
				t.Fatalf("decode error status %d", aerr.Status)
			}
			return
		}
		again, err := json.Marshal(br)
		if err != nil {
			t.Fatal(err)
		}
		br2, aerr := decodeBatch(again)
		if aerr != nil || !reflect.DeepEqual(br, br2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", aerr, br, br2)
		}
		req := httptest.NewRequest(http.MethodPost, "/api/now/v1/batch", strings.NewReader(string(raw)))
		req.SetBasicAuth("admin", "admin")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("batch answered %d: %s", rec.Code, rec.Body)
		}
	})
}
