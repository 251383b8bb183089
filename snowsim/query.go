package snowsim

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Encoded queries (sysparm_query), as the Table API reference describes them:
// terms joined by ^ (AND), ^OR (OR with the previous term) and ^NQ (OR of
// whole groups); ORDERBY / ORDERBYDESC terms; dot-walked field names. Field
// names are lower case, so the upper-case keywords OR, NQ, EQ and ORDERBY can
// be told apart from a field name. A literal ^ in a value is written ^^.

// Query is a parsed encoded query.
type Query struct {
	Groups  []Group // OR of groups (^NQ)
	OrderBy []OrderBy
}

// Group is an AND of clauses.
type Group []Clause

// Clause is an OR of terms (^OR).
type Clause []Term

// Term is one condition. Op is "" when the term could not be read; Raw then
// holds its text.
type Term struct {
	Field string
	Op    string
	Value string
	Raw   string
}

// OrderBy is one ORDERBY or ORDERBYDESC term.
type OrderBy struct {
	Field string
	Desc  bool
}

// operators, longest first so that "NOT LIKE" wins over "NOT IN" and "<=" over "<".
var operators = []string{
	"ISNOTEMPTY", "EMPTYSTRING", "STARTSWITH", "INSTANCEOF", "NOT LIKE", "ENDSWITH",
	"ANYTHING", "NOTLIKE", "BETWEEN", "ISEMPTY", "NSAMEAS", "NOT IN", "SAMEAS",
	"NOTIN", "LIKE", "IN", "!=", "<=", ">=", "=", "<", ">",
}

// canonicalOp maps spellings to one operator.
var canonicalOp = map[string]string{"NOTLIKE": "NOT LIKE", "NOTIN": "NOT IN"}

// ParseEncodedQuery reads an encoded query. It never fails: unreadable terms
// are kept with Op "" so the caller can apply the instance's policy for
// invalid queries.
func ParseEncodedQuery(s string) *Query {
	q := &Query{}
	var group Group
	flushGroup := func() {
		if len(group) > 0 {
			q.Groups = append(q.Groups, group)
		}
		group = nil
	}
	for _, part := range splitQuery(s) {
		switch {
		case part == "" || part == "EQ":
			continue
		case strings.HasPrefix(part, "NQ"):
			flushGroup()
			part = part[2:]
			if part == "" {
				continue
			}
		}
		switch {
		case strings.HasPrefix(part, "ORDERBYDESC"):
			if f := part[len("ORDERBYDESC"):]; f != "" {
				q.OrderBy = append(q.OrderBy, OrderBy{Field: f, Desc: true})
			}
		case strings.HasPrefix(part, "ORDERBY"):
			if f := part[len("ORDERBY"):]; f != "" {
				q.OrderBy = append(q.OrderBy, OrderBy{Field: f})
			}
		case strings.HasPrefix(part, "GROUPBY"):
			// Meaningful to the Aggregate API only; a list ignores it.
		case part == "OR":
			// An OR with nothing after it adds no term.
		case strings.HasPrefix(part, "OR") && len(group) > 0:
			last := len(group) - 1
			group[last] = append(group[last], parseTerm(part[2:]))
		case strings.HasPrefix(part, "OR"):
			group = append(group, Clause{parseTerm(part[2:])})
		default:
			group = append(group, Clause{parseTerm(part)})
		}
	}
	flushGroup()
	return q
}

// splitQuery splits on ^, reading ^^ as a literal caret.
func splitQuery(s string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '^' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '^' {
			b.WriteByte('^')
			i++
			continue
		}
		parts = append(parts, b.String())
		b.Reset()
	}
	return append(parts, b.String())
}

func isFieldByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func parseTerm(s string) Term {
	i := 0
	for i < len(s) && isFieldByte(s[i]) {
		i++
	}
	field, rest := s[:i], s[i:]
	if field == "" || strings.HasPrefix(field, ".") || strings.HasSuffix(field, ".") || strings.Contains(field, "..") {
		return Term{Raw: s}
	}
	for _, op := range operators {
		if strings.HasPrefix(rest, op) {
			value := rest[len(op):]
			if c, ok := canonicalOp[op]; ok {
				op = c
			}
			return Term{Field: field, Op: op, Value: value}
		}
	}
	return Term{Raw: s}
}

// String encodes the query in canonical form.
func (q *Query) String() string {
	var parts []string
	for gi, g := range q.Groups {
		for ci, c := range g {
			for ti, t := range c {
				p := t.encode()
				if ti > 0 {
					p = "OR" + p
				}
				if gi > 0 && ci == 0 && ti == 0 {
					p = "NQ" + p
				}
				parts = append(parts, p)
			}
		}
	}
	for _, o := range q.OrderBy {
		if o.Desc {
			parts = append(parts, "ORDERBYDESC"+escapeQuery(o.Field))
		} else {
			parts = append(parts, "ORDERBY"+escapeQuery(o.Field))
		}
	}
	return strings.Join(parts, "^")
}

func (t Term) encode() string {
	if t.Op == "" {
		// An unreadable term that starts like a keyword is written with a
		// leading "!" so that it reads back as the same unreadable term.
		raw := t.Raw
		for _, kw := range []string{"OR", "NQ", "EQ", "GROUPBY"} {
			if strings.HasPrefix(raw, kw) {
				raw = "!" + raw
				break
			}
		}
		return escapeQuery(raw)
	}
	return t.Field + t.Op + escapeQuery(t.Value)
}

func escapeQuery(s string) string { return strings.ReplaceAll(s, "^", "^^") }

// compiled query for one table and session.

type fieldPath []*Field

type cterm struct {
	path    fieldPath
	op      string
	value   string
	values  []string  // IN, NOT IN, BETWEEN
	other   fieldPath // SAMEAS, NSAMEAS
	numeric bool
	num     float64
	nums    []float64
}

type corder struct {
	path fieldPath
	desc bool
}

type compiled struct {
	groups  [][][]cterm // OR of AND of OR
	order   []corder
	invalid bool // a term named an unknown field or could not be read
}

// resolvePath walks a dotted field name through references.
func (in *Instance) resolvePath(t *Table, name string) fieldPath {
	var path fieldPath
	segs := strings.Split(name, ".")
	for i, seg := range segs {
		f, ok := t.Fields[seg]
		if !ok {
			return nil
		}
		path = append(path, f)
		if i < len(segs)-1 {
			if f.Type != TypeReference {
				return nil
			}
			t = in.tables[f.Ref]
			if t == nil {
				return nil
			}
		}
	}
	return path
}

// valueAt returns the raw value at the end of path, walking references.
func (in *Instance) valueAt(rec Record, path fieldPath) string {
	for i, f := range path {
		v := rec[f.Name]
		if i == len(path)-1 {
			return v
		}
		if rec = in.byID[v]; rec == nil {
			return ""
		}
	}
	return ""
}

var dateGenerate = regexp.MustCompile(`^javascript:\s*gs\.dateGenerate\(\s*['"](\d{4}-\d{2}-\d{2})['"]\s*,\s*['"]([^'"]*)['"]\s*\)\s*;?$`)

// scriptValue evaluates the few javascript: values clients send: dates from
// gs.dateGenerate, read in the session user's time zone as the platform
// does; gs.nowDateTime(), gs.beginningOfToday(), gs.endOfToday(); and the
// session user from gs.getUserID() and gs.getUserName(). Anything else is
// compared as the literal text.
func (in *Instance) scriptValue(v string, s *Session) string {
	if !strings.HasPrefix(v, "javascript:") {
		return v
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	if m := dateGenerate.FindStringSubmatch(v); m != nil {
		clock := m[2]
		switch clock {
		case "start":
			clock = "00:00:00"
		case "end":
			clock = "23:59:59"
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", m[1]+" "+clock, loc)
		if err != nil {
			return v
		}
		return t.UTC().Format(timeFormat)
	}
	now := in.clock()
	y, mo, d := now.In(loc).Date()
	midnight := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	switch strings.TrimSuffix(strings.ReplaceAll(v, " ", ""), ";") {
	case "javascript:gs.nowDateTime()":
		return now.Format(timeFormat)
	case "javascript:gs.beginningOfToday()":
		return midnight.UTC().Format(timeFormat)
	case "javascript:gs.endOfToday()":
		return midnight.AddDate(0, 0, 1).Add(-time.Second).UTC().Format(timeFormat)
	case "javascript:gs.getUserID()":
		return s.UserID
	case "javascript:gs.getUserName()":
		return s.UserName
	}
	return v
}

func (in *Instance) compile(t *Table, q *Query, s *Session) *compiled {
	c := &compiled{}
	for _, g := range q.Groups {
		var cg [][]cterm
		for _, cl := range g {
			var cc []cterm
			dropped := false
			for _, term := range cl {
				ct, ok := in.compileTerm(t, term, s)
				if !ok {
					c.invalid = true
					dropped = true
					continue
				}
				cc = append(cc, ct)
			}
			if len(cc) == 0 && dropped {
				continue // an ignored clause constrains nothing
			}
			cg = append(cg, cc)
		}
		c.groups = append(c.groups, cg)
	}
	for _, o := range q.OrderBy {
		if p := in.resolvePath(t, o.Field); p != nil {
			c.order = append(c.order, corder{path: p, desc: o.Desc})
		}
	}
	return c
}

func (in *Instance) compileTerm(t *Table, term Term, s *Session) (cterm, bool) {
	if term.Op == "" {
		return cterm{}, false
	}
	path := in.resolvePath(t, term.Field)
	if path == nil {
		return cterm{}, false
	}
	f := path[len(path)-1]
	ct := cterm{path: path, op: term.Op, value: in.scriptValue(term.Value, s), numeric: f.numeric()}
	if f.Type == TypeBoolean && (ct.op == "=" || ct.op == "!=") {
		switch strings.ToLower(ct.value) {
		case "1", "true":
			ct.value = "true"
		case "0", "false":
			ct.value = "false"
		}
	}
	switch ct.op {
	case "IN", "NOT IN":
		for _, v := range strings.Split(ct.value, ",") {
			ct.values = append(ct.values, in.scriptValue(strings.TrimSpace(v), s))
		}
	case "BETWEEN":
		a, b, ok := strings.Cut(ct.value, "@")
		if !ok {
			return cterm{}, false
		}
		ct.values = []string{in.scriptValue(a, s), in.scriptValue(b, s)}
	case "SAMEAS", "NSAMEAS":
		if ct.other = in.resolvePath(t, ct.value); ct.other == nil {
			return cterm{}, false
		}
	case "INSTANCEOF":
		if _, ok := in.tables[ct.value]; !ok {
			return cterm{}, false
		}
	}
	if ct.numeric {
		ct.nums = make([]float64, len(ct.values))
		for i, v := range ct.values {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				ct.numeric = false
				break
			}
			ct.nums[i] = n
		}
		if ct.numeric && len(ct.values) == 0 && ct.op != "SAMEAS" && ct.op != "NSAMEAS" {
			n, err := strconv.ParseFloat(ct.value, 64)
			ct.numeric, ct.num = err == nil, n
		}
	}
	return ct, true
}

func (c *compiled) match(in *Instance, rec Record) bool {
	if len(c.groups) == 0 {
		return true
	}
	for _, g := range c.groups {
		if in.matchGroup(g, rec) {
			return true
		}
	}
	return false
}

func (in *Instance) matchGroup(g [][]cterm, rec Record) bool {
	for _, cl := range g {
		ok := false
		for i := range cl {
			if in.matchTerm(&cl[i], rec) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (in *Instance) matchTerm(ct *cterm, rec Record) bool {
	v := in.valueAt(rec, ct.path)
	switch ct.op {
	case "ANYTHING":
		return true
	case "ISEMPTY", "EMPTYSTRING":
		return v == ""
	case "ISNOTEMPTY":
		return v != ""
	case "LIKE":
		return containsFold(v, ct.value)
	case "NOT LIKE":
		return !containsFold(v, ct.value)
	case "STARTSWITH":
		return len(v) >= len(ct.value) && strings.EqualFold(v[:len(ct.value)], ct.value)
	case "ENDSWITH":
		return len(v) >= len(ct.value) && strings.EqualFold(v[len(v)-len(ct.value):], ct.value)
	case "IN", "NOT IN":
		found := false
		for i, want := range ct.values {
			if ct.numeric {
				if n, err := strconv.ParseFloat(v, 64); err == nil && n == ct.nums[i] {
					found = true
				}
			} else if v == want {
				found = true
			}
			if found {
				break
			}
		}
		return found == (ct.op == "IN")
	case "BETWEEN":
		if v == "" {
			return false
		}
		return in.compare(ct, v, ct.values[0], 0) >= 0 && in.compare(ct, v, ct.values[1], 1) <= 0
	case "SAMEAS":
		return v == in.valueAt(rec, ct.other)
	case "NSAMEAS":
		return v != in.valueAt(rec, ct.other)
	case "INSTANCEOF":
		t := in.tables[ct.value]
		return t != nil && in.inTable(t, rec)
	}
	c := in.compare(ct, v, ct.value, -1)
	switch ct.op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<", ">", "<=", ">=":
		if v == "" {
			return false // empty values never satisfy an ordering comparison
		}
		switch ct.op {
		case "<":
			return c < 0
		case ">":
			return c > 0
		case "<=":
			return c <= 0
		default:
			return c >= 0
		}
	}
	return false
}

// compare orders v against want: numerically for numeric fields, otherwise
// as strings, case-sensitively ("Column names, operators, and values are
// case-sensitive", c_TableAPI.md sysparm_query). idx selects a pre-parsed number (-1: ct.num).
func (in *Instance) compare(ct *cterm, v, want string, idx int) int {
	if ct.numeric {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			w := ct.num
			if idx >= 0 {
				w = ct.nums[idx]
			}
			return cmp.Compare(n, w)
		}
	}
	return strings.Compare(v, want)
}

// containsFold reports whether s contains sub, ignoring case, without
// allocating for ASCII text (the common case on large lists).
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	if !isASCII(s) || !isASCII(sub) {
		return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// selectLocked runs an encoded query over t (and the tables extending it) and
// returns the page [offset, offset+limit) plus the total count. limit < 0
// means no limit.
func (in *Instance) selectLocked(t *Table, encoded string, s *Session, offset, limit int) ([]Record, int) {
	c := in.compile(t, ParseEncodedQuery(encoded), s)
	if c.invalid && strings.EqualFold(in.propertyLocked("glide.invalid_query.returns_no_rows"), "true") {
		return nil, 0
	}
	var rows []Record
	total := 0
	if len(c.order) == 0 {
		// No sort: stream, keeping only the requested page.
		in.scanLocked(t, func(r Record) bool {
			if c.match(in, r) {
				if total >= offset && (limit < 0 || total < offset+limit) {
					rows = append(rows, r)
				}
				total++
			}
			return true
		})
		return rows, total
	}
	in.scanLocked(t, func(r Record) bool {
		if c.match(in, r) {
			rows = append(rows, r)
		}
		return true
	})
	total = len(rows)
	in.sortLocked(rows, c.order)
	return page(rows, offset, limit), total
}

func page(rows []Record, offset, limit int) []Record {
	if offset >= len(rows) {
		return nil
	}
	rows = rows[offset:]
	if limit >= 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}

// sortLocked orders rows by the ORDERBY terms: numbers numerically,
// references by their display value, everything else as text.
func (in *Instance) sortLocked(rows []Record, order []corder) {
	slices.SortStableFunc(rows, func(a, b Record) int {
		for _, o := range order {
			f := o.path[len(o.path)-1]
			va, vb := in.valueAt(a, o.path), in.valueAt(b, o.path)
			var c int
			switch {
			case f.numeric():
				na, ea := strconv.ParseFloat(va, 64)
				nb, eb := strconv.ParseFloat(vb, 64)
				switch {
				case ea != nil && eb != nil:
					c = 0
				case ea != nil:
					c = -1
				case eb != nil:
					c = 1
				default:
					c = cmp.Compare(na, nb)
				}
			case f.Type == TypeReference:
				c = strings.Compare(strings.ToLower(in.referenceDisplayLocked(f, va)), strings.ToLower(in.referenceDisplayLocked(f, vb)))
			default:
				c = strings.Compare(strings.ToLower(va), strings.ToLower(vb))
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}
