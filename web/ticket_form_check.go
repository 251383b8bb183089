package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scorebridge/scorebridge"
)

// shareTypes are the ticket types the share form and menus offer: every
// type the ticket service accepts.
func shareTypes() []scorebridge.TicketType { return scorebridge.TicketTypes }

// check finds every problem of the share form at once, in the words of the
// form rather than the API's, so a person fixes them all in one go. The
// keys are the form's field names. The ticket service checks again; this
// is for the person, not the guard.
func (f ticketForm) check(actions []*scorebridge.Recommendation, now time.Time) map[string]string {
	errs := map[string]string{}
	t := scorebridge.TicketType(f.Type)
	if !t.Valid() {
		var names []string
		for _, t := range shareTypes() {
			names = append(names, typeNoun(t))
		}
		errs["type"] = "Choose what to create in ServiceNow: " + orList(names) + "."
	}
	// One ticket each takes its name and description from each action.
	if len(actions) == 1 || f.Mode == "grouped" {
		if msg := checkText("name", f.Name, scorebridge.MaxTicketNameLength, true); msg != "" {
			errs["name"] = msg
		}
	}
	if msg := checkText("description", f.Description, scorebridge.MaxTicketDescriptionLength, false); msg != "" {
		errs["description"] = msg
	}
	if f.Mode == "grouped" && len(actions) > scorebridge.MaxGroupedRecommendations {
		errs["mode"] = fmt.Sprintf("One grouped ticket can cover at most %d actions; you chose %d. Choose one ticket for each action, or fewer actions.", scorebridge.MaxGroupedRecommendations, len(actions))
	}
	p, err := strconv.Atoi(strings.TrimSpace(f.Priority))
	switch {
	case err != nil:
		errs["priority"] = "Choose a priority."
	case t.Valid() && (p < 1 || p > t.MaxPriority()):
		errs["priority"] = fmt.Sprintf("A %s takes a priority from %s to %s: choose one of those.", typeNoun(t), priorityLabel(1), priorityLabel(t.MaxPriority()))
	}
	if d := strings.TrimSpace(f.DueDate); d != "" {
		due, err := time.Parse(scorebridge.DueDateLayout, d)
		today := now.UTC().Truncate(24 * time.Hour)
		switch {
		case err != nil:
			errs["dueDate"] = "Write the due date as a date, for example " + today.AddDate(0, 1, 0).Format(scorebridge.DueDateLayout) + ", or leave it empty."
		case due.Before(today):
			errs["dueDate"] = "The due date has passed: choose today or a later day."
		case due.After(today.AddDate(scorebridge.MaxDueDateYears, 0, 0)):
			errs["dueDate"] = fmt.Sprintf("The due date is more than %d years away: check the year.", scorebridge.MaxDueDateYears)
		}
	}
	return errs
}

// checkText says what is wrong with a text field, "" when nothing is.
func checkText(field, v string, max int, required bool) string {
	label := map[string]string{"name": "name", "description": "description"}[field]
	switch n := utf8.RuneCountInString(v); {
	case required && strings.TrimSpace(v) == "":
		return "Give the ticket a name: it becomes the ticket's short description in ServiceNow."
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return "The " + label + " holds characters that cannot be sent; retype it."
	case n > max:
		return fmt.Sprintf("The %s is %d characters long; ServiceNow keeps at most %d. Shorten it by %d.", label, n, max, n-max)
	}
	return ""
}

// typeNoun names one ticket of a type in a sentence.
func typeNoun(t scorebridge.TicketType) string {
	switch t {
	case scorebridge.TicketIncident:
		return "incident"
	case scorebridge.TicketChange:
		return "change request"
	case scorebridge.TicketProblem:
		return "problem"
	}
	return string(t)
}

// priorityLabel is a priority with its ServiceNow name ("2 - High").
func priorityLabel(p int) string {
	for _, o := range ticketPriorities {
		if o.Value == p {
			return strings.TrimSuffix(o.Label, " (not for change requests)")
		}
	}
	return strconv.Itoa(p)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
