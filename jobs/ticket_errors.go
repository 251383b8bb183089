package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scorebridge/scorebridge/servicenow"
)

// refusalReason says in words why the instance refused a ticket and what a
// ServiceNow admin can do about it.
func refusalReason(e *servicenow.Error) string {
	what := e.Message
	if e.Detail != "" {
		what += ": " + e.Detail
	}
	switch {
	case strings.Contains(e.Message, "Data Policy Exception") || strings.Contains(e.Detail, "Data Policy Exception"):
		return fmt.Sprintf("ServiceNow refused the ticket because a data policy makes fields mandatory that scorebridge does not fill (%s). Ask the ServiceNow admin to give those fields defaults or exempt the integration user, then retry.", what)
	case e.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("ServiceNow refused the ticket: the integration user may not create this record (%s). Give it the itil role (incidents) or the change management roles (change requests), then retry.", what)
	case e.StatusCode == http.StatusBadRequest:
		return fmt.Sprintf("ServiceNow refused the ticket as invalid (%s). Check the table and field settings on the instance, then retry.", what)
	case e.StatusCode == http.StatusNotFound:
		return fmt.Sprintf("ServiceNow has no table for this ticket type or hides it from the integration user (%s).", what)
	}
	return fmt.Sprintf("ServiceNow refused the ticket with %d %s (%s).", e.StatusCode, http.StatusText(e.StatusCode), what)
}

// describe is a short account of a failed call for the audit and logs.
// Transport errors carry no secrets: the client never puts credentials in
// URLs.
func describe(err error) string {
	var e *servicenow.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.As(err, &e) && e.StatusCode == 0 && e.Err != nil:
		return "the instance could not be reached: " + e.Err.Error()
	case errors.As(err, &e):
		s := fmt.Sprintf("%d %s", e.StatusCode, e.Message)
		if e.Detail != "" {
			s += ": " + e.Detail
		}
		return s
	}
	return err.Error()
}
