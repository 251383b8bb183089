package web

import (
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
)

func TestParseJSONObject(t *testing.T) {
	t.Parallel()
	members, err := parseJSONObject([]byte(` {"b": [1, {"x": null}], "a": "s"} `))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0].Name != "b" || string(members[0].Value) != `[1, {"x": null}]` || members[1].Name != "a" {
		t.Fatalf("members: %+v", members)
	}
	for body, wantMsg := range map[string]string{
		``:              "empty",
		`   `:           "empty",
		`null`:          "JSON object",
		`"s"`:           "JSON object",
		`{"a":1}{}`:     "nothing after",
		`{"a":1} x`:     "nothing after",
		`{"a":1,}`:      "not valid JSON",
		`{"a" 1}`:       "not valid JSON",
		`{"a":1`:        "not valid JSON",
		`{"a":1,"a":2}`: "more than once",
	} {
		_, err := parseJSONObject([]byte(body))
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID || !strings.Contains(scorebridge.ErrorMessage(err), wantMsg) {
			t.Errorf("%q: err = %v, want EINVALID mentioning %q", body, err, wantMsg)
		}
	}
}

// FuzzDecodeRecommendation feeds arbitrary bodies to the request decoding:
// it must answer with a value or an EINVALID error, never panic or fail in
// another way.
func FuzzDecodeRecommendation(f *testing.F) {
	for _, seed := range []string{
		`{"title":"T","category":"Data","maxScore":5}`,
		`{"threats":["a",1],"state":"planned","stateNote":"x"}`,
		`{"maxScore":1e999}`, `{"title":null}`, `[]`, `{"a":{"b":[}}`, `{"category":"device"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		members, err := parseJSONObject([]byte(body))
		if err != nil {
			if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
				t.Fatalf("%q: %v", body, err)
			}
			return
		}
		_, err = decodeUpdate(members, nil)
		if err != nil && (scorebridge.ErrorCode(err) != scorebridge.EINVALID || scorebridge.ErrorField(err) == "") {
			t.Fatalf("%q: %v (field %q)", body, err, scorebridge.ErrorField(err))
		}
	})
}
