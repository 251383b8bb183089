package snowsim

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The Aggregate API (c_AggregateAPI.md): GET /api/now/stats/{table} with
// sysparm_count, sysparm_group_by, sysparm_query, sysparm_display_value.
// Counts are strings. Without sysparm_group_by the result is one object,
// with it a list of {"stats","groupby_fields"}.

func (in *Instance) aggregate(w http.ResponseWriter, r *http.Request, s *Session) {
	if r.Method != http.MethodGet {
		writeError(w, errMethod())
		return
	}
	if !acceptable(r) {
		writeError(w, errNotAcceptable())
		return
	}
	name := r.PathValue("table")
	q := r.URL.Query()
	count := isTrue(q.Get("sysparm_count"))
	display := parseDisplayMode(q.Get("sysparm_display_value"))
	in.mu.RLock()
	defer in.mu.RUnlock()
	t, aerr := in.table(name)
	if aerr == nil {
		aerr = in.authorize(s, name, opRead, true)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rows, _ := in.selectLocked(t, statsQuery(t, q), s, 0, -1)
	aggs := aggregateFields(in, t, q)
	stats := func(group []Record) map[string]any {
		st := map[string]any{}
		if count {
			st["count"] = strconv.Itoa(len(group))
		}
		for _, a := range aggs {
			m, ok := st[a.fn].(map[string]string)
			if !ok {
				m = map[string]string{}
				st[a.fn] = m
			}
			m[a.name] = in.aggregateValue(a, group)
		}
		return st
	}
	var groupBy []fieldPathNamed
	for _, g := range strings.Split(q.Get("sysparm_group_by"), ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if p := in.resolvePath(t, g); p != nil {
			groupBy = append(groupBy, fieldPathNamed{name: g, path: p})
		}
	}
	if len(groupBy) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"result": map[string]any{"stats": stats(rows)}})
		return
	}
	type bucket struct {
		values []string
		rec    Record
		rows   []Record
	}
	buckets := map[string]*bucket{}
	var keys []string
	for _, rec := range rows {
		vals := make([]string, len(groupBy))
		for i, g := range groupBy {
			vals[i] = in.valueAt(rec, g.path)
		}
		key := strings.Join(vals, "\x00")
		b := buckets[key]
		if b == nil {
			b = &bucket{values: vals, rec: rec}
			buckets[key] = b
			keys = append(keys, key)
		}
		b.rows = append(b.rows, rec)
	}
	slices.SortFunc(keys, func(a, b string) int {
		va, vb := buckets[a].values, buckets[b].values
		for i, g := range groupBy {
			if c := compareFieldValues(g.path[len(g.path)-1], va[i], vb[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	// sysparm_order_by=COUNT or a group-by field, ascending unless ^DESC.
	if ob := q.Get("sysparm_order_by"); ob != "" {
		key, dir, _ := strings.Cut(ob, "^")
		desc := strings.EqualFold(dir, "DESC")
		slices.SortStableFunc(keys, func(a, b string) int {
			c := 0
			if strings.EqualFold(key, "COUNT") {
				c = cmp.Compare(len(buckets[a].rows), len(buckets[b].rows))
			} else {
				for i, g := range groupBy {
					if g.name == key {
						c = compareFieldValues(g.path[len(g.path)-1], buckets[a].values[i], buckets[b].values[i])
					}
				}
			}
			if desc {
				c = -c
			}
			return c
		})
	}
	result := make([]map[string]any, 0, len(keys))
	for _, key := range keys {
		b := buckets[key]
		fields := make([]map[string]string, len(groupBy))
		for i, g := range groupBy {
			f := g.path[len(g.path)-1]
			owner := b.rec
			for _, pf := range g.path[:len(g.path)-1] {
				if owner = in.byID[owner[pf.Name]]; owner == nil {
					owner = Record{}
					break
				}
			}
			var dv string
			if f.Type == TypeReference {
				dv = in.referenceDisplayLocked(f, b.values[i])
			} else {
				dv = in.displayValueLocked(f, owner, b.values[i], s.Location)
			}
			switch display {
			case displayTrue:
				fields[i] = map[string]string{"field": g.name, "value": dv}
			case displayAll:
				fields[i] = map[string]string{"field": g.name, "value": b.values[i], "display_value": dv}
			default:
				fields[i] = map[string]string{"field": g.name, "value": b.values[i]}
			}
		}
		result = append(result, map[string]any{"stats": stats(b.rows), "groupby_fields": fields})
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
}

type fieldPathNamed struct {
	name string
	path fieldPath
}

// compareFieldValues orders two raw values of a field: numbers
// numerically, the rest as text.
func compareFieldValues(f *Field, a, b string) int {
	if f.numeric() {
		na, ea := strconv.ParseFloat(a, 64)
		nb, eb := strconv.ParseFloat(b, 64)
		if ea == nil && eb == nil {
			return cmp.Compare(na, nb)
		}
	}
	return strings.Compare(a, b)
}

// statsQuery is sysparm_query plus the name-value pair filters the Aggregate
// API accepts instead (&active=true), ANDed.
func statsQuery(t *Table, q url.Values) string {
	query := q.Get("sysparm_query")
	names := slices.Sorted(maps.Keys(q))
	for _, k := range names {
		if strings.HasPrefix(k, "sysparm_") || t.Fields[k] == nil {
			continue
		}
		term := k + "=" + escapeQuery(q.Get(k))
		if query == "" {
			query = term
		} else {
			query = term + "^" + query
		}
	}
	return query
}

type aggregateField struct {
	fn   string // avg, min, max, sum
	name string
	path fieldPath
}

// aggregateFields reads sysparm_avg_fields, sysparm_min_fields,
// sysparm_max_fields and sysparm_sum_fields; unknown fields are ignored.
func aggregateFields(in *Instance, t *Table, q url.Values) []aggregateField {
	var out []aggregateField
	for _, fn := range []string{"avg", "max", "min", "sum"} {
		for _, name := range strings.Split(q.Get("sysparm_"+fn+"_fields"), ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			if p := in.resolvePath(t, name); p != nil {
				out = append(out, aggregateField{fn: fn, name: name, path: p})
			}
		}
	}
	return out
}

// aggregateValue computes one aggregate over a group, as text: averages
// with four decimals as in the documentation's example, sums without
// trailing zeros, min and max as the field's own value.
func (in *Instance) aggregateValue(a aggregateField, rows []Record) string {
	f := a.path[len(a.path)-1]
	var nums []float64
	var vals []string
	for _, r := range rows {
		v := in.valueAt(r, a.path)
		if v == "" {
			continue
		}
		vals = append(vals, v)
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			nums = append(nums, n)
		}
	}
	switch a.fn {
	case "avg", "sum":
		if len(nums) == 0 {
			return ""
		}
		total := 0.0
		for _, n := range nums {
			total += n
		}
		if a.fn == "avg" {
			return strconv.FormatFloat(total/float64(len(nums)), 'f', 4, 64)
		}
		return strconv.FormatFloat(total, 'f', -1, 64)
	}
	if len(vals) == 0 {
		return ""
	}
	best := vals[0]
	for _, v := range vals[1:] {
		c := compareFieldValues(f, v, best)
		if (a.fn == "min" && c < 0) || (a.fn == "max" && c > 0) {
			best = v
		}
	}
	return best
}
