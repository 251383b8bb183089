package snowsim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// XML on the REST APIs. The Table and Aggregate APIs accept application/xml
// as well as JSON (c_TableAPI.md, c_AggregateAPI.md: "Supported types:
// application/json or application/xml"). The XML form mirrors the JSON one:
// <response><result>...</result></response>, one <result> per record of a
// list, a reference as <caller_id><link>..</link><value>..</value></caller_id>,
// an empty value as an empty element (<user_name/>, as in batch-api.md's
// example), and errors as <response><error><detail/><message/></error>
// <status>failure</status></response>. Requests send
// <request><entry><field>value</field>...</entry></request>.
//
// Handlers always build JSON; xmlWriter turns the finished answer into XML
// when the client asked for it, so every API and error path gets the same
// treatment.

// mediaTypes returns the media types of an Accept header, most wanted first
// (by q, then by order).
func mediaTypes(accept string) []string {
	type mt struct {
		name string
		q    float64
		i    int
	}
	var list []mt
	for i, part := range strings.Split(accept, ",") {
		name, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		list = append(list, mt{name, q, i})
	}
	slices.SortStableFunc(list, func(a, b mt) int {
		if a.q != b.q {
			if a.q > b.q {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = m.name
	}
	return out
}

func isXMLType(mt string) bool {
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

func isJSONType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// wantsXML reports whether the client prefers an XML answer.
func wantsXML(r *http.Request) bool {
	for _, mt := range mediaTypes(r.Header.Get("Accept")) {
		switch {
		case isXMLType(mt):
			return true
		case isJSONType(mt) || mt == "*/*" || mt == "application/*":
			return false
		}
	}
	return false
}

// xmlWriter buffers a JSON answer and writes it as XML.
type xmlWriter struct {
	w      http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func newXMLWriter(w http.ResponseWriter) *xmlWriter {
	return &xmlWriter{w: w, header: http.Header{}, status: http.StatusOK}
}

func (x *xmlWriter) Header() http.Header { return x.header }

func (x *xmlWriter) WriteHeader(code int) { x.status = code }

func (x *xmlWriter) Write(b []byte) (int, error) { return x.body.Write(b) }

// finish converts and sends the buffered answer.
func (x *xmlWriter) finish() {
	h := x.w.Header()
	for k, v := range x.header {
		h[k] = v
	}
	mt, _, _ := mime.ParseMediaType(x.header.Get("Content-Type"))
	if x.body.Len() == 0 || !isJSONType(mt) {
		x.w.WriteHeader(x.status)
		_, _ = x.w.Write(x.body.Bytes())
		return
	}
	out, err := jsonToXML(x.body.Bytes())
	if err != nil {
		// Every answer is built from maps and strings; keep it as it is.
		x.w.WriteHeader(x.status)
		_, _ = x.w.Write(x.body.Bytes())
		return
	}
	h.Set("Content-Type", "application/xml;charset=UTF-8")
	h.Del("Content-Length")
	x.w.WriteHeader(x.status)
	_, _ = x.w.Write(out)
}

// jsonToXML renders a JSON answer as ServiceNow's XML.
func jsonToXML(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><response>`)
	writeXMLFields(&b, v)
	b.WriteString("</response>")
	return b.Bytes(), nil
}

func writeXMLFields(b *bytes.Buffer, m map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		writeXMLValue(b, k, m[k])
	}
}

func writeXMLValue(b *bytes.Buffer, name string, v any) {
	switch x := v.(type) {
	case []any:
		// A list is its elements under the list's name, one after another.
		for _, e := range x {
			writeXMLValue(b, name, e)
		}
		return
	case nil:
		b.WriteString("<" + name + "/>")
		return
	case map[string]any:
		b.WriteString("<" + name + ">")
		writeXMLFields(b, x)
		b.WriteString("</" + name + ">")
		return
	}
	text := fieldText(v)
	if text == "" {
		b.WriteString("<" + name + "/>")
		return
	}
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">")
}

// decodeXMLFields reads <request><entry><field>value</field></entry></request>
// (or any root whose leaf elements are fields) as field values.
func decodeXMLFields(raw []byte) (map[string]string, *APIError) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	out := map[string]string{}
	var stack []string
	var text strings.Builder
	leaf := false
	sawRoot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errBadJSON("The payload is not valid XML.")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			sawRoot = true
			stack = append(stack, t.Name.Local)
			text.Reset()
			leaf = true
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if leaf && len(stack) >= 2 {
				out[t.Name.Local] = strings.TrimSpace(text.String())
			}
			leaf = false
			stack = stack[:len(stack)-1]
		}
	}
	if !sawRoot {
		return nil, errBadJSON("The payload is not valid XML.")
	}
	return out, nil
}
