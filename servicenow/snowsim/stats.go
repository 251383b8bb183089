package snowsim

import (
	"cmp"
	"net/http"
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
	if !acceptsJSON(r) {
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
	rows, _ := in.selectLocked(t, q.Get("sysparm_query"), s, 0, -1)
	stats := func(n int) map[string]any {
		st := map[string]any{}
		if count {
			st["count"] = strconv.Itoa(n)
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
		writeJSON(w, http.StatusOK, map[string]any{"result": map[string]any{"stats": stats(len(rows))}})
		return
	}
	type bucket struct {
		values []string
		rec    Record
		n      int
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
		b.n++
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
		result = append(result, map[string]any{"stats": stats(b.n), "groupby_fields": fields})
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
