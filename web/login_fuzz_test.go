package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever ?next= holds, sign-in only ever sends the browser
// to a path on this site (no open redirect).
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/actions?q=1", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)",
		"/%2F%2Fevil.example", "/\t/evil.example", "\\\\evil.example", "/.\\./evil", " //evil.example", "/actions#frag", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		// How a browser would resolve it against the center's own URL.
		base, _ := url.Parse("https://center.example/login")
		ref, err := url.Parse(got)
		if err != nil {
			return // the browser gets a path it cannot follow; still on this site
		}
		if u := base.ResolveReference(ref); u.Host != "center.example" || u.Scheme != "https" {
			t.Fatalf("safeNext(%q) = %q leads to %s", next, got, u)
		}
	})
}
