package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Message is what one delivery says: one group (a cause) for an immediate
// target, or every cause of a period for a digest.
type Message struct {
	Subject string
	// Text is the body in plain text, links written out.
	Text   string
	Digest scorebridge.DigestPeriod
	Items  []Item
	SentAt time.Time
}

// Item is one cause in a message.
type Item struct {
	Kind    scorebridge.NotificationKind   `json:"kind"`
	Label   string                         `json:"label"`
	Cause   string                         `json:"cause"`
	Subject string                         `json:"subject"`
	Details string                         `json:"details,omitempty"`
	Events  int                            `json:"events"`
	FirstAt time.Time                      `json:"firstAt"`
	LastAt  time.Time                      `json:"lastAt"`
	Links   []scorebridge.NotificationLink `json:"links"`
}

// subjectPrefix starts every subject, so mail filters can sort them.
const subjectPrefix = "[scorebridge] "

// compose builds the message for groups sent together.
func compose(digest scorebridge.DigestPeriod, groups []*scorebridge.NotificationGroup, now time.Time) Message {
	m := Message{Digest: digest, SentAt: now}
	for _, g := range groups {
		links := g.Links
		if links == nil {
			links = []scorebridge.NotificationLink{}
		}
		m.Items = append(m.Items, Item{Kind: g.Kind, Label: g.Kind.Label(), Cause: g.Cause, Subject: oneLine(g.Subject), Details: g.Details,
			Events: g.Events, FirstAt: g.FirstAt, LastAt: g.LastAt, Links: links})
	}
	var b strings.Builder
	switch {
	case len(m.Items) == 1 && digest == scorebridge.DigestImmediate:
		m.Subject = subjectPrefix + m.Items[0].Subject
	default:
		m.Subject = fmt.Sprintf("%s%s digest: %d %s", subjectPrefix, digestName(digest), len(m.Items), plural(len(m.Items), "cause", "causes"))
		fmt.Fprintf(&b, "%s since %s:\n\n", strings.TrimPrefix(m.Subject, subjectPrefix), groupsStart(groups).UTC().Format("2006-01-02 15:04 MST"))
	}
	for i, it := range m.Items {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s\n", it.Label, it.Subject)
		if it.Details != "" {
			fmt.Fprintf(&b, "%s\n", it.Details)
		}
		if it.Events > 1 {
			fmt.Fprintf(&b, "(%d events of this cause, %s to %s)\n", it.Events, it.FirstAt.UTC().Format("15:04"), it.LastAt.UTC().Format("15:04 MST"))
		}
		for _, l := range it.Links {
			fmt.Fprintf(&b, "%s: %s\n", l.Title, l.URL)
		}
	}
	m.Text = b.String()
	return m
}

func groupsStart(groups []*scorebridge.NotificationGroup) time.Time {
	var t time.Time
	for _, g := range groups {
		if t.IsZero() || g.PeriodStart.Before(t) {
			t = g.PeriodStart
		}
	}
	return t
}

func digestName(d scorebridge.DigestPeriod) string {
	switch d {
	case scorebridge.DigestHourly:
		return "Hourly"
	case scorebridge.DigestDaily:
		return "Daily"
	}
	return "Notification"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// oneLine keeps a subject on one line, so it can never add a mail header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
