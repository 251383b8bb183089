package web

import "net/url"

// pagerURLs are a keyset-paged list's Next and Previous links, with the
// list's query q (its filter and sort) kept. cursor is the one the page
// was read with and got the cursor the store answered: paging forward the
// next page's, paging back (dir=prev) the one of the page before. Paging
// forward, Previous reads back from the cursor that led here; paging back,
// Next reads forward from it again. "" when there is no such page.
func pagerURLs(path string, q url.Values, cursor, got string, backward bool) (next, prev string) {
	link := func(c string, back bool) string {
		v := cloneValues(q)
		v.Set("cursor", c)
		if back {
			v.Set("dir", "prev")
		}
		return path + "?" + v.Encode()
	}
	fwd, bwd := got, cursor
	if backward {
		fwd, bwd = cursor, got
	}
	if fwd != "" {
		next = link(fwd, false)
	}
	if bwd != "" {
		prev = link(bwd, true)
	}
	return next, prev
}
