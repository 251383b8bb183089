package web

import (
	"html/template"
	"strconv"
	"time"
)

// displayTime shows a time as a <time> element: UTC in the text and the
// title, so it reads right without script, and app.js rewrites the text in
// the viewer's own zone with the zone named, leaving UTC on hover.
func displayTime(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	utc := template.HTMLEscapeString(formatTime(t))
	return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `" data-local title="` + utc + `">` + utc + `</time>`)
}

// priorityNames are ServiceNow's names of its priority values.
var priorityNames = map[int]string{1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low", 5: "5 - Planning"}

// priorityName is a priority as ServiceNow shows it: "2 - High".
func priorityName(p int) string {
	if n, ok := priorityNames[p]; ok {
		return n
	}
	return strconv.Itoa(p)
}
