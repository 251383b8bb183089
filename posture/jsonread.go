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
	"io"
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

// syntaxError explains a JSON error with the line it happened on.
func syntaxError(doc []byte, base int64, dec *json.Decoder, err error) error {
	off := base + dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = base + se.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return scorebridge.Errorf(scorebridge.EINVALID, "The file ends early, at line %d: it looks truncated (nothing was imported).", lineAt(doc, int64(len(doc))))
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	if se != nil {
		msg = se.Error()
	}
	return scorebridge.Errorf(scorebridge.EINVALID, "The file is not valid JSON at line %d: %s (nothing was imported).", lineAt(doc, off), msg)
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

// objectFields reads a JSON object's members in order, each value with its
// offset in doc (base is where data starts in doc).
func objectFields(doc, data []byte, base int64) (keys []string, values map[string]item, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, syntaxError(doc, base, dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errNotObject
	}
	values = map[string]item{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, syntaxError(doc, base, dec, err)
		}
		key, _ := tok.(string)
		start := skipSpace(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, syntaxError(doc, base, dec, err)
		}
		if _, dup := values[key]; !dup {
			keys = append(keys, key)
		}
		values[key] = item{raw: raw, offset: base + start}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, syntaxError(doc, base, dec, err)
	}
	if err := trailing(doc, data, base, dec); err != nil {
		return nil, nil, err
	}
	return keys, values, nil
}

var errNotObject = errors.New("not a JSON object")
var errNotArray = errors.New("not a JSON array")

// arrayItems reads a JSON array's elements, each with its offset in doc.
func arrayItems(doc, data []byte, base int64) ([]item, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(doc, base, dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errNotArray
	}
	var out []item
	for dec.More() {
		start := skipSpace(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(doc, base, dec, err)
		}
		out = append(out, item{raw: raw, offset: base + start})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(doc, base, dec, err)
	}
	if err := trailing(doc, data, base, dec); err != nil {
		return nil, err
	}
	return out, nil
}

// trailing refuses anything after the document but whitespace.
func trailing(doc, data []byte, base int64, dec *json.Decoder) error {
	rest := data[dec.InputOffset():]
	trimmed := bytes.TrimLeft(rest, " \t\r\n")
	if len(trimmed) > 0 && base == 0 {
		at := dec.InputOffset() + int64(len(rest)-len(trimmed))
		return scorebridge.Errorf(scorebridge.EINVALID, "The file has more after its JSON document, at line %d (nothing was imported).", lineAt(doc, at))
	}
	return nil
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
