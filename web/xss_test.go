package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/scorebridge/scorebridge"
)

// hostileRemediation is source HTML that tries every usual way to run script.
const hostileRemediation = `<p>Turn it on.</p>
<script>alert("script")</script>
<img src="x" onerror="alert('img')">
<a href="javascript:alert('link')">click</a>
<a href="JaVaScRiPt:alert('mixed case')">click</a>
<a href="https://learn.example.com/docs">docs</a>
<iframe src="https://evil.example.com"></iframe>
<svg onload="alert('svg')"><circle r="4"/></svg>
<div style="background:url(javascript:alert('css'))" onclick="alert('click')">styled</div>
<form action="https://evil.example.com"><input name="q"></form>
<object data="x.swf"></object><embed src="x.swf">
<base href="https://evil.example.com/">
<meta http-equiv="refresh" content="0;url=javascript:alert('meta')">`

const hostileTitle = `<script>alert("title")</script><img src=x onerror=alert(1)> Block legacy auth`

// TestSourceHTMLCannotRunScript renders an imported action whose title and
// remediation carry script, on every page that shows it, and checks the
// resulting documents hold no script but the site's own, no event handler
// and no javascript: URL.
func TestSourceHTMLCannotRunScript(t *testing.T) {
	t.Parallel()
	// The raw record holds the markup literally, as a source may send it.
	raw := json.RawMessage(`{"title": "<script>alert(1)</script>", "remediation": "<iframe src=x></iframe><img src=x onerror=alert(2)>"}`)
	hostile := &scorebridge.Recommendation{
		ID: "import-hostile", Title: hostileTitle, Remediation: hostileRemediation,
		Description: `</p><script>alert("description")</script>`,
		Category:    scorebridge.CategoryIdentity, Source: scorebridge.SourceMicrosoft, SourceTool: scorebridge.ToolGraph,
		Service: `<b onmouseover="alert(1)">AzureAD</b>`, Threats: []string{`<script>alert("threat")</script>`},
		MaxScore: 1000, State: scorebridge.StateToAddress, Raw: raw,
	}
	b := setup(t, setupOptions{recs: []*scorebridge.Recommendation{hostile}})

	// A user recommendation can carry the same HTML through the form.
	created := b.postForm(t, "/actions", map[string][]string{
		"title": {hostileTitle}, "category": {"Data"}, "remediation": {hostileRemediation}, "maxScore": {"999"},
		"threats": {`<svg onload=alert(2)>`},
	}).wantStatus(t, http.StatusSeeOther)
	userPath := created.Header.Get("Location")

	for _, path := range []string{"/", "/actions", "/actions?q=legacy", "/actions/import-hostile", userPath, "/actions/import-hostile?done=<script>"} {
		r := b.get(t, path).wantStatus(t, http.StatusOK)
		checkSecurityHeaders(t, r)
		checkNoScript(t, path, r.body)
		r.wantContains(t, "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;")
	}

	detail := b.get(t, "/actions/import-hostile")
	// What is safe survives: the text, and the link hardened.
	detail.wantContains(t, "<p>Turn it on.</p>", `href="https://learn.example.com/docs"`, `rel="nofollow noopener"`, `target="_blank"`)
	// The raw record is shown, escaped, inside <pre>.
	detail.wantContains(t, "Source record", "&lt;iframe src=x&gt;", "&lt;script&gt;alert(1)")

	// The form refusing a value echoes it back escaped too.
	bad := b.postForm(t, "/actions", map[string][]string{"title": {hostileTitle}, "category": {"Data"}, "maxScore": {`"><script>alert(3)</script>`}}).
		wantStatus(t, http.StatusBadRequest)
	checkNoScript(t, "refused form", bad.body)

	// The API returns the stored value verbatim (it is data, not a page) but
	// as JSON that a browser will not sniff into HTML.
	api := b.get(t, "/api/v1/recommendations/import-hostile").wantStatus(t, http.StatusOK)
	if api.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(api.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API headers: %v", api.Header)
	}
	api.wantNotContains(t, "<script>")
}

// checkNoScript parses a page and fails on anything that could execute.
func checkNoScript(t testing.TB, where, page string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script":
			src := attr(tok, "src")
			if !strings.HasPrefix(src, "/static/") {
				t.Errorf("%s: script element not from /static/: %s", where, tok)
			}
		case "iframe", "object", "embed", "base", "meta", "form":
			if tok.Data == "meta" && attr(tok, "http-equiv") == "" {
				continue
			}
			if tok.Data == "form" && (strings.HasPrefix(attr(tok, "action"), "/") || attr(tok, "action") == "") {
				continue
			}
			t.Errorf("%s: dangerous element: %s", where, tok)
		}
		for _, a := range tok.Attr {
			name := strings.ToLower(a.Key)
			val := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.HasPrefix(name, "on") {
				t.Errorf("%s: event handler attribute: %s", where, tok)
			}
			if name == "style" {
				t.Errorf("%s: inline style: %s", where, tok)
			}
			if (name == "href" || name == "src" || name == "action" || name == "formaction" || name == "xlink:href") &&
				(strings.HasPrefix(val, "javascript:") || strings.HasPrefix(val, "data:") || strings.HasPrefix(val, "vbscript:")) {
				t.Errorf("%s: script URL: %s", where, tok)
			}
		}
	}
}

func attr(tok html.Token, name string) string {
	for _, a := range tok.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// errorCounter counts the failures a check reports without failing.
type errorCounter struct {
	testing.TB
	n int
}

func (c *errorCounter) Errorf(string, ...any) { c.n++ }
func (c *errorCounter) Helper()               {}

// TestCheckNoScriptCatches makes sure the checker above would notice: the
// hostile HTML, unsanitised, must trip it once per trick, and the sanitised
// version not at all.
func TestCheckNoScriptCatches(t *testing.T) {
	t.Parallel()
	c := &errorCounter{TB: t}
	checkNoScript(c, "raw", hostileRemediation)
	if c.n < 12 {
		t.Errorf("checker found %d problems in the raw hostile HTML, want at least 12", c.n)
	}
	c = &errorCounter{TB: t}
	checkNoScript(c, "sanitised", string(sanitizeRemediation(hostileRemediation)))
	if c.n != 0 {
		t.Errorf("sanitised HTML still has %d problems: %s", c.n, sanitizeRemediation(hostileRemediation))
	}
}

// Unbalanced remediation HTML stays inside its fragment: an unclosed link
// cannot turn the rest of the page into links to its site, and an unclosed
// bold or list stops at the fragment's end too.
func TestRemediationRenderedBalanced(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`<p>see <a href="https://evil.example/login">the guide`,
		`<b><i>bold <ul><li>one`,
		`</div></div><a href="https://evil.example/login">out`,
		`<table><tr><td><a href="https://evil.example/login">cell`,
	} {
		out := string(sanitizeRemediation(in))
		// What follows the fragment in a page must not be inside any of
		// its elements.
		doc, err := html.Parse(strings.NewReader("<div id=frag>" + out + "</div><h2 id=after>Next</h2>"))
		if err != nil {
			t.Fatal(err)
		}
		var after *html.Node
		var find func(*html.Node)
		find = func(n *html.Node) {
			for _, a := range n.Attr {
				if a.Key == "id" && a.Val == "after" {
					after = n
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				find(c)
			}
		}
		find(doc)
		if after == nil {
			t.Fatalf("%q: heading after the fragment lost; rendered %q", in, out)
		}
		if after.Parent == nil || after.Parent.Data != "body" {
			t.Errorf("%q rendered as %q: the heading after it lands inside <%s>", in, out, after.Parent.Data)
		}
		// Nor may a formatting element be carried on into it.
		if c := after.FirstChild; c == nil || c.Type != html.TextNode {
			t.Errorf("%q rendered as %q: the heading after it starts with <%s>", in, out, c.Data)
		}
		if strings.Count(out, "<a ") != strings.Count(out, "</a>") {
			t.Errorf("%q rendered as %q: links not closed", in, out)
		}
	}
}
