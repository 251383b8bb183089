package posture_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/posture"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func records(b *scorebridge.ImportBatch) map[string]scorebridge.ImportRecord {
	m := map[string]scorebridge.ImportRecord{}
	for _, r := range b.Records {
		m[r.ExternalID] = r
	}
	return m
}

// scoreOf computes the score the center would show for a batch's new
// actions, with the one arithmetic the center has.
func scoreOf(b *scorebridge.ImportBatch) scorebridge.Score {
	var items []scorebridge.ScoreItem
	for _, r := range b.Records {
		if !r.Scored {
			continue
		}
		st := r.SourceState
		if st == "" {
			st = scorebridge.StateToAddress
		}
		items = append(items, scorebridge.ScoreItem{Category: r.Rec.Category, State: st, MaxScore: r.Rec.MaxScore, CurrentScore: r.Rec.CurrentScore})
	}
	return scorebridge.ComputeScore(items)
}

func TestParseGraphExport(t *testing.T) {
	t.Parallel()
	b, err := posture.ParseFile(readFixture(t, "graph_export.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind != scorebridge.SourceKindGraph || b.Format != "graph" || !b.Complete {
		t.Fatalf("kind %q format %q complete %v", b.Kind, b.Format, b.Complete)
	}
	if b.TenantID != "8f1c2d3e-0000-4a5b-9c6d-7e8f90a1b2c3" {
		t.Errorf("tenant = %q", b.TenantID)
	}
	recs := records(b)
	if len(recs) != 6 {
		t.Fatalf("got %d records, want 4 profiles and 2 scored controls without a profile: %v", len(recs), recs)
	}
	mfa := recs["AdminMFAV2"]
	if mfa.Rec.MaxScore != 10 || mfa.Rec.CurrentScore != 5 || !mfa.Scored || mfa.SourceState != scorebridge.StateToAddress {
		t.Errorf("AdminMFAV2 = %+v", mfa)
	}
	if !bytes.Contains(mfa.Rec.Raw, []byte(`"undeclaredOpenTypeProperty": {"kept": true}`)) {
		t.Errorf("the raw record lost its undeclared property: %s", mfa.Rec.Raw)
	}
	if !strings.Contains(mfa.Rec.Remediation, "<b>MFA</b>") {
		t.Errorf("remediation HTML not kept verbatim: %q", mfa.Rec.Remediation)
	}
	if got := strings.Join(mfa.Rec.Threats, ","); got != "Password Cracking,Account Breach" {
		t.Errorf("threats = %q, want case-normalised and deduplicated", got)
	}
	if mfa.Rec.ImplementationCost != "Low" || mfa.Rec.UserImpact != "Low" {
		t.Errorf("cost %q impact %q", mfa.Rec.ImplementationCost, mfa.Rec.UserImpact)
	}
	if b := recs["BlockLegacyAuthentication"]; b.Rec.MaxScore != 8 || b.SourceState != scorebridge.StateRiskAccepted || b.SourceStatus != "Ignored" {
		t.Errorf("string maxScore or newest state update not read: %+v", b)
	}
	if d := recs["DLPEnabled"]; d.Scored {
		t.Error("a profile the day's score does not list must not count")
	}
	if m := recs["mdm_enroll"]; m.Rec.Category != scorebridge.CategoryDevices || m.SourceState != scorebridge.StateThirdParty {
		t.Errorf("mdm_enroll = %+v", m)
	}
	sspr := recs["SelfServicePasswordReset"]
	if sspr.HasProfile || sspr.Rec.MaxScore != 1 || sspr.Rec.CurrentScore != 1 {
		t.Errorf("a scored control without profile: %+v", sspr)
	}
	if a := recs["AuditLogSearch"]; a.Rec.MaxScore != 3 {
		t.Errorf("the unexplained maximum goes to the control without a percentage: %+v", a)
	}
	if len(b.Unmapped) != 1 || !strings.Contains(b.Unmapped[0].Reason, `"Cosmic"`) || !strings.Contains(b.Unmapped[0].Ref, "line ") {
		t.Errorf("unmapped = %+v", b.Unmapped)
	}

	// The numbers match the source, overall and per category.
	if len(b.Scores) != 2 || b.Scores[0].Day != "2026-11-30" {
		t.Fatalf("scores = %+v", b.Scores)
	}
	day := b.Scores[0]
	got := scoreOf(b)
	if got.CurrentScore != day.CurrentScore || got.MaxScore != day.MaxScore || day.CurrentScore != 11 || day.MaxScore != 27 {
		t.Errorf("center %v/%v, Graph %v/%v", got.CurrentScore, got.MaxScore, day.CurrentScore, day.MaxScore)
	}
	for i, c := range got.Categories {
		if c != day.Categories[i] {
			t.Errorf("category %s: center %+v, Graph %+v", c.Category, c, day.Categories[i])
		}
	}
}

func TestParseGraphPages(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		doc      string
		format   string
		records  int
		complete bool
	}{
		"profiles page with a next page": {`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#security/secureScoreControlProfiles","@odata.nextLink":"https://graph.microsoft.com/v1.0/security/secureScoreControlProfiles?$skiptoken=2","value":[{"id":"A","controlCategory":"Apps","maxScore":1}]}`, "graph-profiles", 1, false},
		"empty profiles page":            {`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#security/secureScoreControlProfiles","value":[]}`, "graph-profiles", 0, true},
		"secureScores page":              {`{"value":[{"createdDateTime":"2026-11-30T00:00:00Z","currentScore":"1.5","maxScore":3,"controlScores":[{"controlName":"A","controlCategory":"Apps","score":1.5,"scoreInPercentage":50}]}]}`, "graph-scores", 1, false},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := posture.ParseFile([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if b.Format != tc.format || len(b.Records) != tc.records || b.Complete != tc.complete {
				t.Errorf("format %q records %d complete %v", b.Format, len(b.Records), b.Complete)
			}
		})
	}
}

func TestParseScubaGear(t *testing.T) {
	t.Parallel()
	data := readFixture(t, "ScubaResults_2026_11_30.json")
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("the fixture must start with a byte-order mark")
	}
	b, err := posture.ParseFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind != scorebridge.SourceKindScubaGear || b.TenantID != "4b7e9c1a-1111-4c2d-8e3f-5a6b7c8d9e0f" || b.TenantName != "Contoso" {
		t.Fatalf("kind %q tenant %q %q", b.Kind, b.TenantID, b.TenantName)
	}
	recs := records(b)
	pass, fail, warn, na, notImpl := recs["MS.AAD.1.1v1"], recs["MS.AAD.3.1v1"], recs["MS.AAD.3.4v1"], recs["MS.AAD.3.9v1"], recs["MS.AAD.3.10v1"]
	if pass.Rec.MaxScore != 10 || pass.Rec.CurrentScore != 10 || !pass.Scored {
		t.Errorf("Shall + Pass = %+v", pass.Rec)
	}
	if fail.Rec.MaxScore != 10 || fail.Rec.CurrentScore != 0 || fail.SourceStatus != "Fail" || fail.Rec.Category != scorebridge.CategoryIdentity {
		t.Errorf("Shall + Fail = %+v", fail)
	}
	if warn.Rec.MaxScore != 5 || warn.Rec.CurrentScore != 0 || !warn.Scored {
		t.Errorf("Should + Warning = %+v", warn.Rec)
	}
	if na.Scored || notImpl.Scored {
		t.Error("N/A and Not-Implemented controls must not count")
	}
	if !strings.Contains(fail.Rec.Remediation, `<a href="https://example.org/mfa">`) || strings.Contains(fail.Rec.Title, "<") {
		t.Errorf("title %q, remediation %q", fail.Rec.Title, fail.Rec.Remediation)
	}
	if b.PassRate.Pass != 2 || b.PassRate.Fail != 2 || b.PassRate.Warning != 1 || b.PassRate.Percent != 40 {
		t.Errorf("pass rate = %+v", b.PassRate)
	}
	if len(b.Unmapped) != 1 || !strings.Contains(b.Unmapped[0].Reason, "Control ID") {
		t.Errorf("unmapped = %+v", b.Unmapped)
	}
}

func TestParseProwler(t *testing.T) {
	t.Parallel()
	b, err := posture.ParseFile(readFixture(t, "prowler-output-123456789012-20261130.ocsf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind != scorebridge.SourceKindProwler || b.TenantID != "123456789012" {
		t.Fatalf("kind %q tenant %q", b.Kind, b.TenantID)
	}
	recs := records(b)
	mfa := recs["iam_user_mfa_enabled_console_access"]
	if mfa.Rec.MaxScore != 8 || round(mfa.Rec.CurrentScore) != 5.33 || mfa.Rec.Category != scorebridge.CategoryIdentity {
		t.Errorf("two of three resources pass a high check: %+v", mfa.Rec)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(mfa.Rec.Raw, &raws); err != nil || len(raws) != 3 || !bytes.Contains(raws[0], []byte(`"undeclared": "kept"`)) {
		t.Errorf("raw findings not kept: %s", mfa.Rec.Raw)
	}
	if strings.Contains(mfa.Rec.Remediation, "javascript:") {
		t.Errorf("only https references become links: %q", mfa.Rec.Remediation)
	}
	if recs["ec2_instance_imdsv2_enabled"].Scored {
		t.Error("a check with only MANUAL findings must not count")
	}
	if b.PassRate.Pass != 3 || b.PassRate.Fail != 1 || b.PassRate.Other != 1 || b.PassRate.Percent != 75 {
		t.Errorf("pass rate = %+v", b.PassRate)
	}
	if len(b.Unmapped) != 1 || !strings.Contains(b.Unmapped[0].Ref, "record 6") {
		t.Errorf("unmapped = %+v", b.Unmapped)
	}
}

func round(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func TestParseRefusesBadFiles(t *testing.T) {
	t.Parallel()
	full := string(readFixture(t, "graph_export.json"))
	for name, tc := range map[string]struct{ doc, want string }{
		"truncated":       {full[:len(full)/2], "truncated"},
		"malformed":       {"{\n  \"value\": [\n    {\"id\": \"A\",, \"maxScore\": 1}\n  ]\n}", "line 3"},
		"trailing":        {`{"value":[]} {"value":[]}`, "more after"},
		"empty":           {"  \n", "empty"},
		"not json":        {"Control ID,Result\nMS.AAD.1.1v1,Pass\n", "not JSON at all"},
		"unknown object":  {`{"findings": []}`, "not a Microsoft Graph Secure Score export"},
		"empty list":      {`[]`, "empty list"},
		"unknown list":    {`[{"foo": 1}]`, "not Prowler OCSF JSON"},
		"value of others": {`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"u"}]}`, "neither control profiles nor secure scores"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := posture.ParseFile([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
				t.Errorf("code = %q", scorebridge.ErrorCode(err))
			}
		})
	}
}
