package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// pageLimit is the one page size of the pages; the API lets a client
// choose up to scorebridge.MaxRecommendationPage.
const pageLimit = 25

// filterParams are the query parameters a recommendation list understands.
var filterParams = []string{"category", "source", "state", "todo", "q", "sort", "limit", "cursor"}

// strictParams refuses a parameter not in known, or given twice: a list API
// reports a typo such as "catgory" instead of silently listing everything.
func strictParams(q url.Values, known []string) error {
	for name, vs := range q {
		if !slices.Contains(known, name) {
			return scorebridge.FieldErrorf(name, "unknown query parameter %q; known are %s", name, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return scorebridge.FieldErrorf(name, "%s may be given only once", name)
		}
	}
	return nil
}

// parseFilter reads a recommendation filter from query parameters and
// checks it with its Validate. strict (the API) also refuses unknown and
// repeated parameters, so a typo such as "catgory" is reported instead of
// silently returning everything.
func parseFilter(q url.Values, strict bool) (scorebridge.RecommendationFilter, error) {
	var f scorebridge.RecommendationFilter
	if strict {
		if err := strictParams(q, filterParams); err != nil {
			return f, err
		}
	}
	if v := strings.TrimSpace(q.Get("category")); v != "" {
		f.Category = scorebridge.Category(v)
		if c, ok := scorebridge.ParseCategory(v); ok {
			f.Category = c
		}
	}
	f.Source = scorebridge.Source(q.Get("source"))
	f.State = scorebridge.State(q.Get("state"))
	if v := q.Get("todo"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, scorebridge.FieldErrorf("todo", "todo must be true or false (got %q)", v)
		}
		f.ToDo = b
	}
	f.Query = strings.TrimSpace(q.Get("q"))
	f.Sort = q.Get("sort")
	f.Limit = scorebridge.DefaultRecommendationPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, scorebridge.FieldErrorf("limit", "limit must be a whole number from 1 to %d (got %q)", scorebridge.MaxRecommendationPage, v)
		}
		f.Limit = n
	}
	f.Cursor = q.Get("cursor")
	return f, f.Validate()
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
