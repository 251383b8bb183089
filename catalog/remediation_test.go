package catalog

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Remediation is shown (sanitised) on pages and copied into tickets, so the
// catalog keeps to a small, inert subset of HTML: no scripts, no event
// handlers, only https links.
var remediationTags = map[string]bool{"p": true, "ol": true, "ul": true, "li": true, "a": true, "strong": true, "em": true, "code": true, "br": true}

func TestRemediationIsInertHTML(t *testing.T) {
	t.Parallel()
	for _, r := range mustRecommendations(t) {
		for _, problem := range remediationProblems(r.Remediation) {
			t.Errorf("%s: %s", r.ID, problem)
		}
		if !strings.HasPrefix(r.Remediation, "<p>") || !strings.Contains(r.Remediation, "</p><ol><li>") || !strings.HasSuffix(r.Remediation, "</li></ol>") {
			t.Errorf("%s: remediation should be a short <p> followed by an <ol> of steps", r.ID)
		}
		if n := strings.Count(r.Remediation, "<li>"); n < 3 {
			t.Errorf("%s: remediation has %d steps, want at least 3", r.ID, n)
		}
	}
}

// The check itself must catch what it is there to catch.
func TestRemediationProblemsCatchesUnsafeMarkup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, html string }{
		{"script element", `<p>a</p><script>alert(1)</script>`},
		{"uppercase script", `<p>a</p><SCRIPT src="https://x.example/a.js"></SCRIPT>`},
		{"event handler", `<p onclick="alert(1)">a</p>`},
		{"event handler on link", `<a href="https://x.example/" onmouseover="alert(1)">a</a>`},
		{"javascript link", `<a href="javascript:alert(1)">a</a>`},
		{"plain http link", `<a href="http://x.example/">a</a>`},
		{"iframe", `<iframe src="https://x.example/"></iframe>`},
		{"style attribute", `<p style="display:none">a</p>`},
		{"image", `<img src="https://x.example/a.png">`},
	} {
		if len(remediationProblems(tc.html)) == 0 {
			t.Errorf("%s: %q passed the check", tc.name, tc.html)
		}
	}
	if p := remediationProblems(`<p>Do this.</p><ol><li>Open the <a href="https://portal.azure.com/">portal</a>.</li></ol>`); len(p) != 0 {
		t.Errorf("safe remediation was flagged: %v", p)
	}
}

// remediationProblems tokenises s as a browser would and lists everything
// outside the allowed subset.
func remediationProblems(s string) []string {
	var problems []string
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				problems = append(problems, "unreadable HTML: "+z.Err().Error())
			}
			return problems
		}
		if tt == html.CommentToken || tt == html.DoctypeToken {
			problems = append(problems, "comments and doctypes are not allowed")
			continue
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
			continue
		}
		tok := z.Token()
		if !remediationTags[tok.Data] {
			problems = append(problems, "element <"+tok.Data+"> is not allowed")
		}
		for _, a := range tok.Attr {
			switch {
			case strings.HasPrefix(strings.ToLower(a.Key), "on"):
				problems = append(problems, "event handler attribute "+a.Key+" is not allowed")
			case tok.Data == "a" && a.Key == "href":
				if u, err := url.Parse(a.Val); err != nil || u.Scheme != "https" || u.Host == "" {
					problems = append(problems, "link "+a.Val+" must be an absolute https URL")
				}
			default:
				problems = append(problems, "attribute "+a.Key+" on <"+tok.Data+"> is not allowed")
			}
		}
	}
}
