package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/scorebridge/scorebridge"
)

// maxBodyBytes caps a JSON request body. The largest valid recommendation
// (100,000 characters of remediation plus the rest) fits well within it.
const maxBodyBytes = 1 << 20

// writeJSON writes v with a status. Encoding a value built by this package
// cannot fail in a way the client could act on, so the error is dropped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONKeeping(w, status, v, nil)
}

// writeJSONKeeping writes v and, with a slot, keeps the body for the
// requests that follow (kept_views.go).
func writeJSONKeeping(w http.ResponseWriter, status int, v any, slot *viewSlot) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"Internal error.","field":""}}`, http.StatusInternalServerError)
		return
	}
	if slot != nil {
		slot.keep(&keptView{body: buf.Bytes()})
	}
	writeJSONBody(w, status, buf.Bytes())
}

// writeJSONBody writes an encoded JSON body.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// requestError is a problem with the request envelope (media type, size),
// which has its own status rather than a domain code's.
type requestError struct {
	code    string
	message string
}

func (e *requestError) Error() string { return e.message }

// readJSONObject reads a request body that must be one JSON object and
// returns its members in order, raw. It refuses a wrong Content-Type (415),
// a body over the cap (413), malformed JSON, a value that is not an object,
// duplicate members and anything after the object (400).
func readJSONObject(w http.ResponseWriter, r *http.Request) ([]jsonMember, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &requestError{codeUnsupportedMediaType, "Content-Type must be application/json."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &requestError{codeRequestTooLarge, fmt.Sprintf("Request body must be at most %d bytes.", maxBodyBytes)}
		}
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "Request body could not be read.")
	}
	return parseJSONObject(body)
}

// jsonMember is one name/value pair of a JSON object.
type jsonMember struct {
	Name  string
	Value json.RawMessage
}

// parseJSONObject walks the top level of an object token by token, which is
// what lets it refuse duplicate names and trailing data that
// json.Unmarshal would silently accept or ignore.
func parseJSONObject(body []byte) ([]jsonMember, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "Request body is empty; send a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "Request body must be a JSON object.")
	}
	var members []jsonMember
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, syntaxError(err)
		}
		if name == "" {
			return nil, scorebridge.Errorf(scorebridge.EINVALID, "Request body has a member with an empty name.")
		}
		if seen[name] {
			return nil, scorebridge.FieldErrorf(name, "%s appears more than once", name)
		}
		seen[name] = true
		members = append(members, jsonMember{Name: name, Value: value})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, syntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "Request body must hold one JSON object and nothing after it.")
	}
	return members, nil
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return scorebridge.Errorf(scorebridge.EINVALID, "Request body is not valid JSON (at byte %d): %s.", se.Offset, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return scorebridge.Errorf(scorebridge.EINVALID, "Request body is not valid JSON: it ends too early.")
	}
	return scorebridge.Errorf(scorebridge.EINVALID, "Request body is not valid JSON: %s.", err.Error())
}

// isNull reports whether a raw value is JSON null.
func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// decodeString reads a member that must be a JSON string.
func decodeString(m jsonMember) (string, error) {
	var s string
	if isNull(m.Value) || json.Unmarshal(m.Value, &s) != nil {
		return "", scorebridge.FieldErrorf(m.Name, "%s must be a string", m.Name)
	}
	return s, nil
}

// decodeNumber reads a member that must be a JSON number.
func decodeNumber(m jsonMember) (float64, error) {
	var f float64
	if isNull(m.Value) || json.Unmarshal(m.Value, &f) != nil {
		return 0, scorebridge.FieldErrorf(m.Name, "%s must be a number", m.Name)
	}
	return f, nil
}

// decodeBool reads a member that must be true or false.
func decodeBool(m jsonMember) (bool, error) {
	var b bool
	if isNull(m.Value) || json.Unmarshal(m.Value, &b) != nil {
		return false, scorebridge.FieldErrorf(m.Name, "%s must be true or false", m.Name)
	}
	return b, nil
}

// decodeStrings reads a member that must be an array of strings.
func decodeStrings(m jsonMember) ([]string, error) {
	var ss []string
	if isNull(m.Value) || json.Unmarshal(m.Value, &ss) != nil {
		return nil, scorebridge.FieldErrorf(m.Name, "%s must be an array of strings", m.Name)
	}
	if ss == nil {
		ss = []string{}
	}
	return ss, nil
}

// writeRequestError answers a body-reading error: envelope problems with
// their own status, everything else through the error table.
func (s *Server) writeRequestError(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	if errors.As(err, &re) {
		s.errorStatus(w, r, errorStatusCode(re.code), re.code, re.message, "")
		return
	}
	s.error(w, r, err)
}
