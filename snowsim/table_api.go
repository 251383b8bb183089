package snowsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The Table API (c_TableAPI.md): /api/now/[v1|v2/]table/{table}[/{sys_id}].

// MaxPayloadBytes is the largest REST request body a fresh instance
// accepts: glide.rest.max_content_length defaults to 10 MB (KB0747638).
const MaxPayloadBytes = 10485760

// defaultLimit is sysparm_limit when the client gives none.
const defaultLimit = 10000

// tableParams are the sysparm_* parameters of a Table API request.
type tableParams struct {
	query             string
	fields            []string
	limit, offset     int
	display           string
	excludeRefLink    bool
	inputDisplayValue bool
	noCount           bool
	suppressPaging    bool
}

func parseTableParams(r *http.Request) tableParams {
	q := r.URL.Query()
	p := tableParams{
		query:             q.Get("sysparm_query"),
		limit:             defaultLimit,
		display:           parseDisplayMode(q.Get("sysparm_display_value")),
		excludeRefLink:    isTrue(q.Get("sysparm_exclude_reference_link")),
		inputDisplayValue: isTrue(q.Get("sysparm_input_display_value")),
		noCount:           isTrue(q.Get("sysparm_no_count")),
		suppressPaging:    isTrue(q.Get("sysparm_suppress_pagination_header")),
	}
	// A list with no names at all (sysparm_fields=,) means every field.
	for _, name := range strings.Split(q.Get("sysparm_fields"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			p.fields = append(p.fields, name)
		}
	}
	if n, err := strconv.Atoi(q.Get("sysparm_limit")); err == nil && n > 0 {
		p.limit = n
	}
	if n, err := strconv.Atoi(q.Get("sysparm_offset")); err == nil && n > 0 {
		p.offset = n
	}
	return p
}

func isTrue(v string) bool { return strings.EqualFold(v, "true") }

// baseURL is the instance URL for links: Options.BaseURL, or the request's
// scheme and host.
func (in *Instance) baseURL(r *http.Request) string {
	if in.opts.BaseURL != "" {
		return in.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (in *Instance) renderOpts(r *http.Request, p tableParams, s *Session) renderOptions {
	return renderOptions{display: p.display, excludeRefLink: p.excludeRefLink, fields: p.fields, baseURL: in.baseURL(r),
		tablePath: versionedTablePath(r.URL.Path), loc: s.Location}
}

// versionedTablePath is the Table API path of the request's API version:
// a v2 request's reference links point at /api/now/v2/table/ too.
func versionedTablePath(path string) string {
	for _, v := range []string{"v1", "v2"} {
		if strings.HasPrefix(path, "/api/now/"+v+"/") {
			return "/api/now/" + v + "/table/"
		}
	}
	return "/api/now/table/"
}

// acceptable reports whether the Accept header allows JSON or XML, the two
// formats of the Table and Aggregate APIs.
func acceptable(r *http.Request) bool { return acceptsJSON(r) || wantsXML(r) }

// acceptsJSON reports whether the Accept header allows a JSON answer.
func acceptsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	if a == "" {
		return true
	}
	for _, part := range strings.Split(a, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "*/*" || mt == "application/*" || mt == "application/json" || strings.HasSuffix(mt, "+json") {
			return true
		}
	}
	return false
}

func errNotAcceptable() *APIError {
	return &APIError{Status: http.StatusNotAcceptable, Message: "Not Acceptable", Detail: "The endpoint does not support the response format specified in the request Accept header"}
}

// readBody reads a JSON object (or XML request) body as field values. It
// refuses what ServiceNow refuses: bodies over the instance's maximum, media
// types other than JSON and XML, and anything that cannot be parsed.
func (in *Instance) readBody(r *http.Request) (map[string]string, *APIError) {
	asXML := false
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		asXML = err == nil && isXMLType(mt)
		if err != nil || (!isJSONType(mt) && !asXML) {
			return nil, &APIError{Status: http.StatusUnsupportedMediaType, Message: "Unsupported Media Type",
				Detail: fmt.Sprintf("Content-Type %q is not supported; send application/json or application/xml", ct)}
		}
	}
	raw, aerr := in.readPayload(r)
	if aerr != nil {
		return nil, aerr
	}
	if asXML {
		return decodeXMLFields(raw)
	}
	return decodeFields(raw)
}

// maxPayload is glide.rest.max_content_length in bytes: the property is in
// MB, 1 to 25, default 10 (KB0747638).
func (in *Instance) maxPayload() int64 {
	mb, err := strconv.Atoi(in.Property("glide.rest.max_content_length"))
	if err != nil || mb < 1 || mb > 25 {
		return MaxPayloadBytes
	}
	return int64(mb) << 20
}

// readPayload reads a request body up to the instance's maximum.
func (in *Instance) readPayload(r *http.Request) ([]byte, *APIError) {
	limit := in.maxPayload()
	if r.ContentLength > limit {
		return nil, errLargePayload(r.ContentLength, limit)
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errBadJSON("Unable to read the request body")
	}
	if int64(len(raw)) > limit {
		return nil, errLargePayload(int64(len(raw)), limit)
	}
	return raw, nil
}

// errLargePayload is the refusal of KB0747638. The platform raises it as a
// UserException while reading the request, which the REST framework answers
// with 400 like any other unreadable request.
func errLargePayload(n, limit int64) *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: "Exception while reading request",
		Detail: fmt.Sprintf("Rejected large REST payload with content-length = %d bytes. Max allowed: %d bytes.", n, limit)}
}

// decodeFields turns a JSON object into field values the way the platform
// coerces them: numbers and booleans become their text, null becomes "", a
// {"value": ...} object (as GET returns references) gives its value.
func decodeFields(raw []byte) (map[string]string, *APIError) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errBadJSON("The payload is not valid JSON.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, errBadJSON("The payload is not valid JSON.")
	}
	if dec.More() {
		return nil, errBadJSON("The payload is not valid JSON.")
	}
	if obj == nil {
		return nil, errBadJSON("The payload is not valid JSON.")
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		out[k] = fieldText(v)
	}
	return out, nil
}

func fieldText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		if val, ok := x["value"]; ok {
			return fieldText(val)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// methods dispatches a REST resource's request to the handler of its
// method, after the Accept check every JSON-or-XML answer needs; any other
// method is the platform's 405.
func methods(handlers map[string]apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, s *Session) {
		if !acceptable(r) {
			writeError(w, errNotAcceptable())
			return
		}
		h, ok := handlers[r.Method]
		if !ok {
			writeError(w, errMethod())
			return
		}
		h(w, r, s)
	}
}

func (in *Instance) tableList(w http.ResponseWriter, r *http.Request, s *Session) {
	name := r.PathValue("table")
	p := parseTableParams(r)
	in.mu.RLock()
	t, aerr := in.table(name)
	if aerr == nil {
		aerr = in.authorize(s, name, opRead, true)
	}
	if aerr != nil {
		in.mu.RUnlock()
		writeError(w, aerr)
		return
	}
	query := p.query
	if query == "" {
		query = in.nameValueQueryLocked(t, r.URL.Query())
	}
	rows, total := in.selectLocked(t, query, s, p.offset, p.limit)
	ro := in.renderOpts(r, p, s)
	result := make([]map[string]any, 0, len(rows))
	for _, rec := range rows {
		result = append(result, in.renderLocked(t, rec, ro))
	}
	in.mu.RUnlock()
	if len(result) == 0 && strings.HasPrefix(r.URL.Path, "/api/now/v1/") {
		// Version 1 of the Table API answers an empty list with a 404; v2
		// and the unversioned path answer 200 with an empty result.
		writeError(w, &APIError{Status: http.StatusNotFound, Message: "No Record found",
			Detail: "Records matching query not found. Check query parameter or offset parameter"})
		return
	}
	if !p.noCount {
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
	}
	if !p.suppressPaging {
		if link := paginationLink(in.baseURL(r)+r.URL.Path, r.URL.RawQuery, p, total, len(rows)); link != "" {
			w.Header().Set("Link", link)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
}

// paginationLink builds the Link header: rel first, prev, next and last URLs
// that repeat every parameter of the request and change only sysparm_offset.
// Without a count (sysparm_no_count) there is no last, and next is offered
// when the page came back full.
func paginationLink(base, rawQuery string, p tableParams, total, returned int) string {
	var params []string
	hasLimit := false
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		key, _, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		switch key {
		case "sysparm_offset":
			continue
		case "sysparm_limit":
			hasLimit = true
			kv = "sysparm_limit=" + strconv.Itoa(p.limit)
		}
		params = append(params, kv)
	}
	if !hasLimit {
		params = append(params, "sysparm_limit="+strconv.Itoa(p.limit))
	}
	at := func(offset int, rel string) string {
		q := append(append([]string{}, params...), "sysparm_offset="+strconv.Itoa(offset))
		return "<" + base + "?" + strings.Join(q, "&") + `>;rel="` + rel + `"`
	}
	links := []string{at(0, "first")}
	if p.offset > 0 {
		links = append(links, at(max(0, p.offset-p.limit), "prev"))
	}
	if p.noCount {
		if returned >= p.limit {
			links = append(links, at(p.offset+p.limit, "next"))
		}
		return strings.Join(links, ",")
	}
	if p.offset+p.limit < total {
		links = append(links, at(p.offset+p.limit, "next"))
	}
	last := 0
	if total > 0 {
		last = ((total - 1) / p.limit) * p.limit
	}
	links = append(links, at(last, "last"))
	return strings.Join(links, ",")
}

func (in *Instance) tableGet(w http.ResponseWriter, r *http.Request, s *Session) {
	name, id := r.PathValue("table"), r.PathValue("sys_id")
	p := parseTableParams(r)
	in.mu.RLock()
	defer in.mu.RUnlock()
	t, aerr := in.table(name)
	if aerr == nil {
		aerr = in.authorize(s, name, opRead, false)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rec, ok := in.getLocked(t, id)
	if !ok {
		writeError(w, errNoRecord())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": in.renderLocked(t, rec, in.renderOpts(r, p, s))})
}

func (in *Instance) tableInsert(w http.ResponseWriter, r *http.Request, s *Session) {
	name := r.PathValue("table")
	p := parseTableParams(r)
	values, ok := in.checkedBody(w, r, in.checkTable(s, name, opCreate))
	if !ok {
		return
	}
	rec, err := in.insert(s, name, values, writeOptions{inputDisplayValue: p.inputDisplayValue})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.Header().Set("Location", in.baseURL(r)+strings.TrimSuffix(r.URL.Path, "/")+"/"+rec["sys_id"])
	if isTrue(r.Header.Get("X-no-response-body")) {
		w.WriteHeader(http.StatusCreated)
		return
	}
	in.writeRecord(w, r, s, name, rec["sys_id"], p, http.StatusCreated)
}

func (in *Instance) tableUpdate(w http.ResponseWriter, r *http.Request, s *Session) {
	name, id := r.PathValue("table"), r.PathValue("sys_id")
	p := parseTableParams(r)
	values, ok := in.checkedBody(w, r, in.checkTable(s, name, opWrite))
	if !ok {
		return
	}
	if _, err := in.update(s, name, id, values, writeOptions{inputDisplayValue: p.inputDisplayValue}); err != nil {
		writeError(w, asAPIError(err))
		return
	}
	if isTrue(r.Header.Get("X-no-response-body")) {
		// The documented header suppresses the body of a successful write.
		w.WriteHeader(http.StatusOK)
		return
	}
	in.writeRecord(w, r, s, name, id, p, http.StatusOK)
}

func (in *Instance) tableDelete(w http.ResponseWriter, r *http.Request, s *Session) {
	name, id := r.PathValue("table"), r.PathValue("sys_id")
	if aerr := in.checkTable(s, name, opDelete); aerr != nil {
		writeError(w, aerr)
		return
	}
	if err := in.delete(s, name, id); err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkedBody reads a write's field values once refusal, the outcome of
// the table and ACL checks, is nil; otherwise, or when the body cannot be
// read, it answers the error itself and reports false.
func (in *Instance) checkedBody(w http.ResponseWriter, r *http.Request, refusal *APIError) (map[string]string, bool) {
	if refusal != nil {
		writeError(w, refusal)
		return nil, false
	}
	values, aerr := in.readBody(r)
	if aerr != nil {
		writeError(w, aerr)
		return nil, false
	}
	return values, true
}

// checkTable validates the table name, then the ACL.
func (in *Instance) checkTable(s *Session, name, op string) *APIError {
	if _, ok := in.tables[name]; !ok {
		return errInvalidTable(name)
	}
	return in.authorize(s, name, op, false)
}

// writeRecord answers with the whole record as stored, rendered with the
// request's display parameters.
func (in *Instance) writeRecord(w http.ResponseWriter, r *http.Request, s *Session, table, id string, p tableParams, status int) {
	in.mu.RLock()
	t := in.tables[table]
	rec, ok := in.getLocked(t, id)
	var body map[string]any
	if ok {
		body = in.renderLocked(t, rec, in.renderOpts(r, p, s))
	}
	in.mu.RUnlock()
	if !ok {
		// Deleted between the write and the answer by another request.
		writeError(w, errNoRecord())
		return
	}
	writeJSON(w, status, map[string]any{"result": body})
}

// nameValueQueryLocked turns the name-value pair filters of a list request
// (&active=true&state=Closed&assigned_to=beth.anglin), the documented
// alternative to sysparm_query, into an encoded query. Choice and reference
// fields accept display values; references also accept a user name.
func (in *Instance) nameValueQueryLocked(t *Table, q url.Values) string {
	var terms []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if strings.HasPrefix(k, "sysparm_") {
			continue
		}
		path := in.resolvePath(t, k)
		if path == nil {
			continue // not a field: ignored like any unknown name
		}
		f, v := path[len(path)-1], q.Get(k)
		owner := t.Name
		if len(path) > 1 {
			owner = path[len(path)-2].Ref
		}
		switch f.Type {
		case TypeChoice, TypeIntChoice:
			v = in.choiceValueLocked(owner, f.Name, v)
		case TypeReference:
			if id := in.referenceByDisplayLocked(f.Ref, v); id != "" {
				v = id
			} else if u := in.userByNameLocked(v); u != nil && f.Ref == "sys_user" {
				v = u["sys_id"]
			}
		}
		terms = append(terms, k+"="+escapeQuery(v))
	}
	return strings.Join(terms, "^")
}
