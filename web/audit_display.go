package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// auditActionNames say what each kind of event was, for people.
var auditActionNames = map[string]string{
	scorebridge.AuditSignIn:         "Signed in",
	scorebridge.AuditSignOut:        "Signed out",
	scorebridge.AuditPasswordChange: "Changed password",
	scorebridge.AuditAccountCreate:  "Created account",
	scorebridge.AuditTokenCreate:    "Created API token",
	scorebridge.AuditTokenRevoke:    "Revoked API token",
	scorebridge.AuditTokenUse:       "Used API token",
	scorebridge.AuditRequest:        "Request",
	scorebridge.AuditConnection:     "ServiceNow connection",
	scorebridge.AuditTicketSend:     "Sent ticket",
	scorebridge.AuditStateChange:    "Changed action state",
	scorebridge.AuditImport:         "Imported actions",
	scorebridge.AuditSecretsRotate:  "Rotated encryption key",
	scorebridge.AuditSettings:       "Changed settings",
	scorebridge.AuditDrift:          "Acted on drift",
	scorebridge.AuditTicketResolve:  "Resolved ticket",
}

func auditActionName(action string) string {
	if n, ok := auditActionNames[action]; ok {
		return n
	}
	return action
}

// auditTargetURL links an event to the page of what it concerns.
func auditTargetURL(e *scorebridge.AuditEvent) string {
	if e.Target == "" {
		return ""
	}
	id := url.PathEscape(e.Target)
	switch e.Action {
	case scorebridge.AuditTicketSend:
		return "/tickets/" + id
	case scorebridge.AuditStateChange:
		return "/actions/" + id
	case scorebridge.AuditConnection:
		return "/connections/" + id
	case scorebridge.AuditTokenCreate, scorebridge.AuditTokenRevoke, scorebridge.AuditTokenUse, scorebridge.AuditAccountCreate:
		return "/access"
	}
	return ""
}

// auditSummary is an event's detail on one short line: its plain values
// as "key: value", in key order; nested values are left to the detail view.
func auditSummary(detail map[string]any) string {
	keys := make([]string, 0, len(detail))
	for k := range detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		switch v := detail[k].(type) {
		case string, float64, int, int64, bool:
			s := fmt.Sprint(v)
			if len(s) > 60 {
				s = s[:57] + "..."
			}
			parts = append(parts, k+": "+s)
		}
	}
	line := strings.Join(parts, " · ")
	if len(line) > 160 {
		line = line[:157] + "..."
	}
	return line
}
