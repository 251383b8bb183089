package browsertest

import (
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pageLoaded is the event ClickAndLoad waits for.
var pageLoaded = page.LoadEventFired

// axeViolation is the part of an axe-core result a failure message needs.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
		Fail   string `json:"failureSummary"`
	} `json:"nodes"`
}

// Check fails the test unless the current page is sound: no console error
// or failed request since the last check, no serious or critical axe-core
// violation, and no horizontal scroll (wide tables scroll inside their own
// box, never the page). name says which page, for the failure message.
func (p *Page) Check(name string) {
	p.t.Helper()
	loc := p.Path()
	p.mu.Lock()
	probs := p.problems
	p.problems = nil
	p.mu.Unlock()
	for _, pr := range probs {
		p.t.Errorf("%s (%s): %s", name, loc, pr)
	}

	overflow := Eval[struct {
		Page    int      `json:"page"`
		View    int      `json:"view"`
		Culprit []string `json:"culprit"`
	}](p, `(() => {
		const view = document.documentElement.clientWidth;
		const culprit = [];
		if (document.documentElement.scrollWidth > view) {
			for (const el of document.body.querySelectorAll("*")) {
				const r = el.getBoundingClientRect();
				if (r.right > view + 1 && getComputedStyle(el).position !== "fixed") {
					let inScroller = false;
					for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
						const ox = getComputedStyle(a).overflowX;
						if (ox === "auto" || ox === "scroll" || ox === "hidden") { inScroller = true; break; }
					}
					if (!inScroller) culprit.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(r.right));
					if (culprit.length >= 5) break;
				}
			}
		}
		return {page: document.documentElement.scrollWidth, view, culprit};
	})()`)
	if overflow.Page > overflow.View {
		p.t.Errorf("%s (%s): the page scrolls sideways: %d px wide in a %d px window; sticking out: %s",
			name, loc, overflow.Page, overflow.View, strings.Join(overflow.Culprit, ", "))
	}

	src, err := axeScript()
	if err != nil {
		p.t.Fatal(err)
	}
	if !Eval[bool](p, `typeof window.axe === "object"`) {
		// Injected through the protocol, so the page's own
		// Content-Security-Policy does not apply to it.
		Run(p, chromedp.Evaluate[chromedp.Void](src))
	}
	violations := Eval[[]axeViolation](p, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical"))`)
	for _, v := range violations {
		var where []string
		for i, n := range v.Nodes {
			if i == 3 {
				where = append(where, fmt.Sprintf("and %d more", len(v.Nodes)-3))
				break
			}
			where = append(where, fmt.Sprintf("%v %s", n.Target, n.HTML))
		}
		p.t.Errorf("%s (%s): accessibility (%s, %s): %s\n    %s", name, loc, v.ID, v.Impact, v.Help, strings.Join(where, "\n    "))
	}
}
