package posture

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// controlScoreFields is what the latest day says of a control; the other
// days are read as controlScorePoints only.
type controlScoreFields struct {
	ControlName          looseString `json:"controlName"`
	ControlCategory      looseString `json:"controlCategory"`
	Description          looseString `json:"description"`
	ImplementationStatus looseString `json:"implementationStatus"`
	Score                looseNumber `json:"score"`
	ScoreInPercentage    looseNumber `json:"scoreInPercentage"`
}

// controlScorePoints is the part of a control score a day's history needs.
type controlScorePoints struct {
	ControlName       looseString `json:"controlName"`
	ControlCategory   looseString `json:"controlCategory"`
	Score             looseNumber `json:"score"`
	ScoreInPercentage looseNumber `json:"scoreInPercentage"`
}

// looseString is a string member; any other type reads as "", as Graph's
// open types may put anything anywhere.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' {
		*s = ""
		return nil
	}
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		*s = looseString(b[1 : len(b)-1])
		return nil
	}
	var v string
	if json.Unmarshal(b, &v) != nil {
		v = ""
	}
	*s = looseString(v)
	return nil
}

// looseNumber is a number member, also when written as a string ("5");
// ok is false for anything else.
type looseNumber struct {
	value float64
	ok    bool
}

func (n *looseNumber) UnmarshalJSON(b []byte) error {
	*n = looseNumber{}
	t := string(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		t = strings.TrimSpace(s)
	} else if len(b) == 0 || b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	n.value, n.ok = f, err == nil && f == f
	return nil
}

// fieldText reads a string member of an object read by objectFields.
func fieldText(f map[string]item, key string) string {
	var s looseString
	if it, ok := f[key]; ok {
		_ = s.UnmarshalJSON(it.raw)
	}
	return string(s)
}

// fieldNumber reads a number member (or a number written as a string).
func fieldNumber(f map[string]item, key string) (float64, bool) {
	var n looseNumber
	if it, ok := f[key]; ok {
		_ = n.UnmarshalJSON(it.raw)
	}
	return n.value, n.ok
}
