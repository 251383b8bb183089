package web

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scorebridge/scorebridge"
)

// List sizes: the API lets a client choose within bounds, pages use one size.
const (
	defaultAPILimit = 50
	maxAPILimit     = 200
	pageLimit       = 25
	maxQueryLength  = 200
	maxCursorLength = 1024
)

// filterParams are the query parameters a recommendation list understands.
var filterParams = map[string]bool{
	"category": true, "source": true, "state": true, "todo": true,
	"q": true, "sort": true, "limit": true, "cursor": true,
}

// parseFilter reads a recommendation filter from query parameters. strict
// (the API) also refuses unknown and repeated parameters, so a typo such as
// "catgory" is reported instead of silently returning everything.
func parseFilter(q url.Values, strict bool) (scorebridge.RecommendationFilter, error) {
	var f scorebridge.RecommendationFilter
	if strict {
		for name, vs := range q {
			if !filterParams[name] {
				return f, scorebridge.FieldErrorf(name, "unknown query parameter %q; known are category, source, state, todo, q, sort, limit, cursor", name)
			}
			if len(vs) > 1 {
				return f, scorebridge.FieldErrorf(name, "%s may be given only once", name)
			}
		}
	}
	if v := strings.TrimSpace(q.Get("category")); v != "" {
		c, ok := scorebridge.ParseCategory(v)
		if !ok {
			return f, scorebridge.FieldErrorf("category", "category must be one of Identity, Data, Devices, Apps, Infrastructure (got %q)", v)
		}
		f.Category = c
	}
	if v := q.Get("source"); v != "" {
		if !scorebridge.Source(v).Valid() {
			return f, scorebridge.FieldErrorf("source", "source must be \"microsoft\" or \"user\" (got %q)", v)
		}
		f.Source = scorebridge.Source(v)
	}
	if v := q.Get("state"); v != "" {
		if !scorebridge.State(v).Valid() {
			return f, scorebridge.FieldErrorf("state", "state must be one of to_address, planned, risk_accepted, third_party, completed (got %q)", v)
		}
		f.State = scorebridge.State(v)
	}
	if v := q.Get("todo"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, scorebridge.FieldErrorf("todo", "todo must be true or false (got %q)", v)
		}
		f.ToDo = b
	}
	f.Query = strings.TrimSpace(q.Get("q"))
	if !utf8.ValidString(f.Query) {
		return f, scorebridge.FieldErrorf("q", "q is not valid UTF-8")
	} else if n := utf8.RuneCountInString(f.Query); n > maxQueryLength {
		return f, scorebridge.FieldErrorf("q", "q must be at most %d characters (got %d)", maxQueryLength, n)
	}
	switch v := q.Get("sort"); v {
	case "", scorebridge.SortImpact, scorebridge.SortTitle, scorebridge.SortUpdated:
		f.Sort = v
	default:
		return f, scorebridge.FieldErrorf("sort", "sort must be impact, title or updated (got %q)", v)
	}
	f.Limit = defaultAPILimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAPILimit {
			return f, scorebridge.FieldErrorf("limit", "limit must be a whole number from 1 to %d (got %q)", maxAPILimit, v)
		}
		f.Limit = n
	}
	f.Cursor = q.Get("cursor")
	if len(f.Cursor) > maxCursorLength {
		return f, scorebridge.FieldErrorf("cursor", "cursor is not one this server issued")
	}
	return f, nil
}

// filterQuery encodes a filter back into query parameters, leaving out the
// defaults, for links that keep the current filter (sort, next page).
func filterQuery(f scorebridge.RecommendationFilter) url.Values {
	q := url.Values{}
	if f.Category != "" {
		q.Set("category", string(f.Category))
	}
	if f.Source != "" {
		q.Set("source", string(f.Source))
	}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.ToDo {
		q.Set("todo", "true")
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	if f.Sort != "" && f.Sort != scorebridge.SortImpact {
		q.Set("sort", f.Sort)
	}
	return q
}
