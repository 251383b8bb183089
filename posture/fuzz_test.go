package posture_test

import (
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/posture"
)

// fuzzParse checks that no input panics a parser and that whatever it
// accepts maps only to records a store would take or keep as unmapped.
func fuzzParse(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add(readFixture(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := posture.ParseFile(data)
		if err != nil {
			if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
				t.Fatalf("a bad file must be EINVALID, got %v", err)
			}
			return
		}
		if !b.Kind.Valid() {
			t.Fatalf("kind %q", b.Kind)
		}
		for _, r := range b.Records {
			if r.ExternalID == "" {
				t.Fatal("a record without its source id")
			}
			if r.Rec.MaxScore < 0 || r.Rec.MaxScore != r.Rec.MaxScore {
				t.Fatalf("%s: maxScore %v", r.ExternalID, r.Rec.MaxScore)
			}
		}
	})
}

func FuzzParseGraph(f *testing.F) {
	fuzzParse(f, "graph_export.json", "graph_export_newer.json")
}

func FuzzParseScubaGear(f *testing.F) {
	fuzzParse(f, "ScubaResults_2026_11_30.json")
}

func FuzzParseProwler(f *testing.F) {
	fuzzParse(f, "prowler-output-123456789012-20261130.ocsf.json")
}
