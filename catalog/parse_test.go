package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

// validEntry returns a catalog entry that parses, for tests to spoil.
func validEntry(id string) map[string]any {
	return map[string]any{
		"id":                 id,
		"title":              "Require multifactor authentication",
		"description":        "Passwords leak. A second factor stops most takeovers.",
		"remediation":        "<p>Turn it on.</p><ol><li>Open the portal.</li></ol>",
		"category":           "Identity",
		"service":            "AzureAD",
		"tier":               "Core",
		"userImpact":         "Low",
		"implementationCost": "Low",
		"threats":            []string{"Account Breach"},
		"maxScore":           5,
		"currentScore":       0,
		"state":              "to_address",
	}
}

func catalogJSON(t *testing.T, entries ...map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseKeepsEntryTextAndSetsSource(t *testing.T) {
	t.Parallel()
	data := []byte("[\n  {\"id\": \"sb-a\", \"title\": \"A\", \"description\": \"d\", \"remediation\": \"<p>r</p>\",\n   \"category\": \"Data\", \"service\": \"SPO\", \"tier\": \"Advanced\", \"userImpact\": \"High\",\n   \"implementationCost\": \"Moderate\", \"threats\": [\"Data Exfiltration\"], \"maxScore\": 3, \"currentScore\": 1, \"state\": \"planned\"}\n]\n")
	recs, err := parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("got %d recommendations, want 1", len(recs))
	}
	r := recs[0]
	wantRaw := data[strings.Index(string(data), "{") : strings.LastIndex(string(data), "}")+1]
	if string(r.Raw) != string(wantRaw) {
		t.Errorf("raw = %q, want the entry byte-for-byte %q", r.Raw, wantRaw)
	}
	if r.Source != scorebridge.SourceMicrosoft || r.SourceTool != scorebridge.ToolCatalog {
		t.Errorf("source = %q/%q, want microsoft/catalog", r.Source, r.SourceTool)
	}
	if r.Category != scorebridge.CategoryData || r.State != scorebridge.StatePlanned || r.MaxScore != 3 || r.CurrentScore != 1 {
		t.Errorf("fields not carried over: %+v", r)
	}
}

func TestParseRejectsBadCatalogs(t *testing.T) {
	t.Parallel()
	with := func(key string, value any) []map[string]any {
		e := validEntry("sb-bad")
		if value == nil {
			delete(e, key)
		} else {
			e[key] = value
		}
		return []map[string]any{validEntry("sb-good"), e}
	}
	for _, tc := range []struct {
		name    string
		entries []map[string]any
		raw     string // used instead of entries when set
		want    []string
	}{
		{name: "unknown field", entries: with("severity", "high"), want: []string{`entry 1 ("sb-bad")`, `unknown field "severity"`}},
		{name: "source in the file", entries: with("source", "user"), want: []string{`"sb-bad"`, `unknown field "source"`}},
		{name: "missing id", entries: with("id", nil), want: []string{"entry 1", "id is required"}},
		{name: "bad id", entries: with("id", "sb bad"), want: []string{"entry 1", "id may hold only"}},
		{name: "missing title", entries: with("title", ""), want: []string{`"sb-bad"`, "title is required"}},
		{name: "missing description", entries: with("description", nil), want: []string{`"sb-bad"`, "description is required"}},
		{name: "missing remediation", entries: with("remediation", ""), want: []string{`"sb-bad"`, "remediation is required"}},
		{name: "unknown category", entries: with("category", "Network"), want: []string{`"sb-bad"`, "category must be one of"}},
		{name: "Graph spelling of category", entries: with("category", "Device"), want: []string{`"sb-bad"`, `category "Device" must be spelt exactly`}},
		{name: "lower-case category", entries: with("category", "identity"), want: []string{`"sb-bad"`, "spelt exactly"}},
		{name: "missing service", entries: with("service", ""), want: []string{`"sb-bad"`, "service is required"}},
		{name: "bad tier", entries: with("tier", "Defense In Depth"), want: []string{`"sb-bad"`, `tier "Defense In Depth" must be one of`}},
		{name: "bad user impact", entries: with("userImpact", "Medium"), want: []string{`"sb-bad"`, "userImpact"}},
		{name: "bad cost", entries: with("implementationCost", "Unknown"), want: []string{`"sb-bad"`, "implementationCost"}},
		{name: "no threats", entries: with("threats", []string{}), want: []string{`"sb-bad"`, "at least one threat"}},
		{name: "blank threat", entries: with("threats", []string{" "}), want: []string{`"sb-bad"`, "threats is required"}},
		{name: "score above ten", entries: with("maxScore", 11), want: []string{`"sb-bad"`, "maxScore must be a whole number from 1 to 10, got 11"}},
		{name: "zero score", entries: with("maxScore", 0), want: []string{`"sb-bad"`, "maxScore must be a whole number"}},
		{name: "fractional score", entries: with("maxScore", 2.5), want: []string{`"sb-bad"`, "got 2.5"}},
		{name: "current above max", entries: with("currentScore", 6), want: []string{`"sb-bad"`, "currentScore must be between 0 and maxScore (5)"}},
		{name: "fractional current", entries: with("currentScore", 1.5), want: []string{`"sb-bad"`, "currentScore must be a whole number"}},
		{name: "bad state", entries: with("state", "done"), want: []string{`"sb-bad"`, "state must be one of"}},
		{name: "wrong type", entries: with("maxScore", "5"), want: []string{`"sb-bad"`, "maxScore"}},
		{name: "duplicate id", entries: []map[string]any{validEntry("sb-a"), validEntry("sb-b"), validEntry("sb-a")}, want: []string{`entry 2 ("sb-a")`, "already used by entry 0"}},
		{name: "not an array", raw: `{"id": "sb-a"}`, want: []string{"must be a JSON array"}},
		{name: "empty array", raw: `[]`, want: []string{"empty"}},
		{name: "empty file", raw: ``, want: []string{"reading actions"}},
		{name: "truncated", raw: `[{"id": "sb-a", "title": `, want: []string{"entry 0"}},
		{name: "unclosed array", raw: string(catalogJSON(t, validEntry("sb-a")))[:len(catalogJSON(t, validEntry("sb-a")))-1], want: []string{"end of the actions array"}},
		{name: "trailing data", raw: string(catalogJSON(t, validEntry("sb-a"))) + `[]`, want: []string{"unexpected data after"}},
		{name: "entry not an object", raw: `["sb-a"]`, want: []string{"entry 0", "cannot unmarshal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tc.raw)
			if tc.entries != nil {
				data = catalogJSON(t, tc.entries...)
			}
			recs, err := parse(data)
			if err == nil {
				t.Fatalf("parse accepted the catalog: %d recommendations", len(recs))
			}
			if recs != nil {
				t.Errorf("parse returned recommendations alongside an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// A broken entry keeps its field-level error code, so a caller can tell bad
// catalog data from an internal failure.
func TestParseErrorKeepsFieldAndCode(t *testing.T) {
	t.Parallel()
	e := validEntry("sb-bad")
	e["tier"] = "Basic"
	_, err := parse(catalogJSON(t, e))
	if code := scorebridge.ErrorCode(err); code != scorebridge.EINVALID {
		t.Errorf("code = %q, want %q (err %v)", code, scorebridge.EINVALID, err)
	}
	if field := scorebridge.ErrorField(err); field != "tier" {
		t.Errorf("field = %q, want tier", field)
	}
}
