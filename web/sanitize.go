package web

import (
	"bytes"
	"encoding/json"
	"html/template"

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
func sanitizeRemediation(s string) template.HTML {
	return template.HTML(remediationPolicy.Sanitize(s))
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
