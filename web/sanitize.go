package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/microcosm-cc/bluemonday"
)

// remediationPolicy keeps the formatting of remediation text from a source
// and drops everything that could run: scripts, event handlers, styles,
// frames, forms and non-web URL schemes. Links open in a new tab without
// handing it this page (noopener) or vouching for the target (nofollow).
var remediationPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// sanitizeRemediation returns remediation HTML that is safe to place in a
// page. Only its output may be marked template.HTML.
//
// The sanitized fragment is then parsed as the content of a <div> and
// rendered again, so every element it opens is closed inside it: an
// unclosed <a> or <b> from a source cannot reach the headings and text the
// page puts after it.
func sanitizeRemediation(s string) template.HTML {
	return template.HTML(balanceFragment(remediationPolicy.Sanitize(s)))
}

// fragmentContext is the element a remediation fragment is placed in.
var fragmentContext = &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}

// balanceFragment parses an HTML fragment the way a browser would inside a
// <div> and renders the tree back, balanced. A fragment that cannot be
// parsed (never, for sanitized input) is dropped rather than shown raw.
func balanceFragment(s string) string {
	nodes, err := html.ParseFragment(strings.NewReader(s), fragmentContext)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, n := range nodes {
		if err := html.Render(&b, n); err != nil {
			return ""
		}
	}
	return b.String()
}

// formatRaw indents a raw source record for reading; anything that is not
// JSON is shown as it is. The template escapes the result either way.
func formatRaw(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
