// Package posture reads posture data into the center: the Microsoft Graph
// Secure Score connector, and files from Graph exports, CISA ScubaGear and
// Prowler (OCSF JSON). Parsers turn bytes into a scorebridge.ImportBatch;
// the Importer applies one to the store in a single transaction.
package posture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// byteOrderMark is UTF-8's, which ScubaGear (PowerShell) writes first.
var byteOrderMark = []byte{0xEF, 0xBB, 0xBF}

// item is one JSON value of a document with where it starts, so errors and
// unmapped records can name their line.
type item struct {
	raw    json.RawMessage
	offset int64
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// skipSpace moves past whitespace and the separators between values.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// checkJSON refuses a document that is not valid JSON, naming the line of
// the first error. The readers below then walk the document in place:
// every value they hand out is a slice of it, never a copy, so a large
// export costs its own size and little more.
func checkJSON(doc, data []byte, base int64) error {
	if json.Valid(data) {
		return nil
	}
	// Only a bad file pays for decoding: Unmarshal's check says where.
	var v struct{}
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return scorebridge.Errorf(scorebridge.EINVALID, "The file is not valid JSON (nothing was imported).")
	}
	if se.Offset >= int64(len(data)) || strings.Contains(se.Error(), "unexpected end") {
		return scorebridge.Errorf(scorebridge.EINVALID, "The file ends early, at line %d: it looks truncated (nothing was imported).", lineAt(doc, int64(len(doc))))
	}
	if strings.Contains(se.Error(), "after top-level value") {
		at := skipSpace(data, se.Offset-1)
		return scorebridge.Errorf(scorebridge.EINVALID, "The file has more after its JSON document, at line %d (nothing was imported).", lineAt(doc, base+at))
	}
	return scorebridge.Errorf(scorebridge.EINVALID, "The file is not valid JSON at line %d: %s (nothing was imported).", lineAt(doc, base+se.Offset), se.Error())
}

// errMalformed is returned by the readers for input that checkJSON would
// have refused; they are only handed checked documents, so it means a
// caller skipped the check.
var errMalformed = errors.New("malformed JSON")

// spaceEnd moves past whitespace only.
func spaceEnd(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the offset just past the JSON string starting at i.
func stringEnd(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errMalformed
}

// valueEnd returns the offset just past the JSON value starting at i,
// counting brackets outside strings: the document was checked already.
func valueEnd(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errMalformed
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				e, err := stringEnd(data, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errMalformed
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j, nil
		}
		j++
	}
	return j, nil
}

// objectFields reads a JSON object's members in order, each value a slice
// of data with its offset in doc (base is where data starts in doc). data
// must have passed checkJSON (alone or as part of doc).
func objectFields(doc, data []byte, base int64) (keys []string, values map[string]item, err error) {
	i := spaceEnd(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, nil, errNotObject
	}
	values = map[string]item{}
	i = spaceEnd(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, values, nil
	}
	for i < len(data) {
		if data[i] != '"' {
			return nil, nil, errMalformed
		}
		e, err := stringEnd(data, i)
		if err != nil {
			return nil, nil, err
		}
		var key string
		if err := json.Unmarshal(data[i:e], &key); err != nil {
			return nil, nil, errMalformed
		}
		i = spaceEnd(data, e)
		if i >= len(data) || data[i] != ':' {
			return nil, nil, errMalformed
		}
		start := spaceEnd(data, i+1)
		end, err := valueEnd(data, start)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := values[key]; !dup {
			keys = append(keys, key)
		}
		values[key] = item{raw: data[start:end:end], offset: base + int64(start)}
		i = spaceEnd(data, end)
		if i >= len(data) {
			return nil, nil, errMalformed
		}
		if data[i] == '}' {
			return keys, values, nil
		}
		if data[i] != ',' {
			return nil, nil, errMalformed
		}
		i = spaceEnd(data, i+1)
	}
	return nil, nil, errMalformed
}

var errNotObject = errors.New("not a JSON object")
var errNotArray = errors.New("not a JSON array")

// eachItem calls f with every element of a JSON array, each a slice of
// data with its offset in doc, without building a list: a day's 10,000
// control scores are read one at a time. data must have passed checkJSON.
func eachItem(data []byte, base int64, f func(item) error) error {
	i := spaceEnd(data, 0)
	if i >= len(data) || data[i] != '[' {
		return errNotArray
	}
	i = spaceEnd(data, i+1)
	if i < len(data) && data[i] == ']' {
		return nil
	}
	for i < len(data) {
		end, err := valueEnd(data, i)
		if err != nil {
			return err
		}
		if err := f(item{raw: data[i:end:end], offset: base + int64(i)}); err != nil {
			return err
		}
		i = spaceEnd(data, end)
		if i >= len(data) {
			return errMalformed
		}
		if data[i] == ']' {
			return nil
		}
		if data[i] != ',' {
			return errMalformed
		}
		i = spaceEnd(data, i+1)
	}
	return errMalformed
}

// arrayItems reads a JSON array's elements, each with its offset in doc.
func arrayItems(doc, data []byte, base int64) ([]item, error) {
	var out []item
	err := eachItem(data, base, func(it item) error {
		out = append(out, it)
		return nil
	})
	return out, err
}

// ref names a record for a person: its position and line.
func ref(doc []byte, n int, it item) string {
	return fmt.Sprintf("record %d (line %d)", n, lineAt(doc, it.offset))
}

// number reads a JSON number, or a number written as a string ("5"), which
// Graph's open types carry.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil && f == f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && f == f
	case float64:
		return v, true
	}
	return 0, false
}

// text reads a string field; other types give "".
func text(v any) string {
	s, _ := v.(string)
	return s
}

// decodeObject decodes a record into a map with numbers kept exact.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errNotObject
	}
	return m, nil
}

// clipText cuts s to n characters, so a long source title still fits.
func clipText(s string, n int) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// plainText strips tags from a source's HTML for fields shown as text
// (titles), collapsing whitespace; the HTML itself is kept in remediation
// and sanitised when shown.
func plainText(s string) string {
	var b strings.Builder
	in := false
	for _, c := range s {
		switch {
		case c == '<':
			in = true
		case c == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(c)
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	for _, e := range [][2]string{{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", `"`}, {"&#39;", "'"}, {"&nbsp;", " "}} {
		out = strings.ReplaceAll(out, e[0], e[1])
	}
	return out
}

// titleCase normalises free text a source writes in mixed case ("low",
// "LOW") to one form ("Low").
func titleCase(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
