package snowsim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// TestEncodedQueryOperators runs every operator of the encoded query
// reference (SERVICENOW.md "Encoded queries", c_TableAPI.md sysparm_query)
// over a small fixed set of incidents.
func TestEncodedQueryOperators(t *testing.T) {
	t.Parallel()
	in, err := snowsim.New(snowsim.Options{Clock: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	beth := userID(t, in, snowsim.UserITIL)
	admin := userID(t, in, snowsim.UserAdmin)
	rows := []map[string]string{
		{"short_description": "VPN down in Paris", "impact": "1", "urgency": "1", "caller_id": beth, "assigned_to": beth},
		{"short_description": "Printer jam", "impact": "2", "urgency": "2", "caller_id": admin, "description": "paper"},
		{"short_description": "vpn slow", "impact": "3", "urgency": "3", "assigned_to": admin},
	}
	for _, r := range rows {
		mkIncident(t, in, r)
	}
	cases := []struct {
		query string
		want  []string // numbers, in order
	}{
		{"", []string{"INC0010001", "INC0010002", "INC0010003"}},
		{"priority=1", []string{"INC0010001"}},
		{"priority!=1", []string{"INC0010002", "INC0010003"}},
		{"priority<3", []string{"INC0010001"}},
		{"priority<=3", []string{"INC0010001", "INC0010002"}},
		{"priority>3", []string{"INC0010003"}},
		{"priority>=3", []string{"INC0010002", "INC0010003"}},
		{"short_descriptionLIKEvpn", []string{"INC0010001", "INC0010003"}},
		{"short_descriptionNOT LIKEvpn", []string{"INC0010002"}},
		{"short_descriptionNOTLIKEvpn", []string{"INC0010002"}},
		{"short_descriptionSTARTSWITHvpn", []string{"INC0010001", "INC0010003"}},
		{"short_descriptionENDSWITHJAM", []string{"INC0010002"}},
		{"short_description=Printer jam", []string{"INC0010002"}},
		{"short_description=printer jam", nil}, // values are case-sensitive (c_TableAPI.md)
		{"priorityIN1,5", []string{"INC0010001", "INC0010003"}},
		{"priorityNOT IN1,5", []string{"INC0010002"}},
		{"descriptionISEMPTY", []string{"INC0010001", "INC0010003"}},
		{"descriptionISNOTEMPTY", []string{"INC0010002"}},
		{"impactANYTHING", []string{"INC0010001", "INC0010002", "INC0010003"}},
		{"priorityBETWEEN2@5", []string{"INC0010002", "INC0010003"}},
		{"caller_idSAMEASassigned_to", []string{"INC0010001"}},
		{"caller_idNSAMEASassigned_to", []string{"INC0010002", "INC0010003"}},
		{"caller_id.user_name=beth.anglin", []string{"INC0010001"}},
		{"caller_id.nameSTARTSWITHSystem", []string{"INC0010002"}},
		{"priority=1^ORpriority=5", []string{"INC0010001", "INC0010003"}},
		{"priority=1^NQpriority=3", []string{"INC0010001", "INC0010002"}},
		{"short_descriptionLIKEvpn^priority=5", []string{"INC0010003"}},
		{"ORDERBYDESCpriority", []string{"INC0010003", "INC0010002", "INC0010001"}},
		{"ORDERBYcaller_id", []string{"INC0010003", "INC0010001", "INC0010002"}}, // by display value: "", Beth, System
		{"u_nope=1^priority=1", []string{"INC0010001"}},
		{"priority=1^ORu_nope=1", []string{"INC0010001"}},
		{"sys_created_on>=javascript:gs.dateGenerate('2026-11-25','04:00:00')", []string{"INC0010001", "INC0010002", "INC0010003"}},
		{"sys_created_on>javascript:gs.dateGenerate('2026-11-25','04:00:00')", nil},
		// The system zone is America/Los_Angeles: 12:00 UTC is 04:00 on the 25th there.
		{"sys_created_onBETWEENjavascript:gs.beginningOfToday()@javascript:gs.endOfToday()", []string{"INC0010001", "INC0010002", "INC0010003"}},
		{"sys_created_on<javascript:gs.beginningOfToday()", nil},
		{"sys_created_on<=javascript:gs.nowDateTime()", []string{"INC0010001", "INC0010002", "INC0010003"}},
		{"active=true^state=1^EQ", []string{"INC0010001", "INC0010002", "INC0010003"}},
		{"sys_class_nameINSTANCEOFtask", []string{"INC0010001", "INC0010002", "INC0010003"}},
	}
	for _, tc := range cases {
		got, err := in.Query("incident", tc.query)
		if err != nil {
			t.Fatalf("%q: %v", tc.query, err)
		}
		var numbers []string
		for _, r := range got {
			numbers = append(numbers, r["number"])
		}
		if !slices.Equal(numbers, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.query, numbers, tc.want)
		}
	}

	// glide.invalid_query.returns_no_rows makes an unknown field return nothing.
	props, _ := in.Query("sys_properties", "name=glide.invalid_query.returns_no_rows")
	if _, err := in.Update("sys_properties", props[0]["sys_id"], map[string]string{"value": "true"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := in.Query("incident", "u_nope=1^priority=1"); len(got) != 0 {
		t.Fatalf("invalid query returned %d rows with returns_no_rows=true", len(got))
	}
}

// TestEncodedQueryRoundTrip pins the canonical encoding of parsed queries.
func TestEncodedQueryRoundTrip(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a=1^ORb=2^NQc!=3^ORDERBYDESCd": "a=1^ORb=2^NQc!=3^ORDERBYDESCd",
		"aNOTLIKEx^bNOTINy":             "aNOT LIKEx^bNOT INy",
		"a=x^^y^EQ":                     "a=x^^y",
		"^ORa=1":                        "a=1",
		"OROR":                          "!OR",
	} {
		if got := snowsim.ParseEncodedQuery(in).String(); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
