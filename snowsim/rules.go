package snowsim

import (
	"net/http"
	"strconv"
	"strings"
)

// The business rules of a fresh instance that a client can observe: field
// defaults, the priority lookup, the state models and the data policy.

// closedStates are the states in which a task is no longer active.
var closedStates = map[string]map[string]bool{
	"incident":       {"6": true, "7": true, "8": true}, // Resolved, Closed, Canceled
	"change_request": {"3": true, "4": true},            // Closed, Canceled
	"task":           {"3": true, "4": true, "7": true}, // Closed Complete/Incomplete/Skipped
	"problem":        {"107": true},                     // Closed (Resolved stays active)
}

// Problem states of the best practice state model, on every instance since
// Madrid (understanding-state-mgmt-transitions.md; values as in the
// problem module of ansible-collections/servicenow.itsm).
const (
	problemNew      = "101"
	problemResolved = "106"
	problemClosed   = "107"
)

func isTask(t *Table) bool { return t.Name == "task" || t.Extends == "task" }

func (in *Instance) applyDefaults(s *Session, t *Table, rec Record, now string) {
	switch t.Name {
	case "incident":
		rec["state"], rec["impact"], rec["urgency"] = "1", "3", "3"
		rec["severity"], rec["reopen_count"], rec["category"] = "3", "0", "inquiry"
		rec["notify"], rec["child_incidents"] = "1", "0"
	case "change_request":
		rec["state"], rec["type"], rec["impact"], rec["urgency"] = "-5", "normal", "3", "3"
		rec["priority"], rec["risk"] = "4", "3"
		rec["phase"], rec["phase_state"], rec["conflict_status"] = "requested", "open", "Not Run"
		rec["cab_required"], rec["on_hold"], rec["production_system"] = "false", "false", "false"
		rec["outside_maintenance_schedule"], rec["unauthorized"] = "false", "false"
	case "problem":
		rec["state"], rec["problem_state"], rec["impact"], rec["urgency"] = problemNew, problemNew, "3", "3"
		rec["known_error"], rec["major_problem"], rec["workaround_applied"] = "false", "false", "false"
		rec["related_incidents"], rec["reopen_count"] = "0", "0"
	case "task":
		rec["state"], rec["impact"], rec["urgency"], rec["priority"] = "1", "3", "3", "4"
	case "sys_user", "sys_user_group":
		rec["active"] = "true"
		if t.Name == "sys_user" {
			rec["locked_out"] = "false"
		}
	case "sys_user_has_role":
		rec["state"], rec["inherited"] = "active", "false"
	case "oauth_entity":
		rec["active"], rec["type"] = "true", "client"
		rec["access_token_lifespan"], rec["refresh_token_lifespan"] = "1800", "8640000"
		rec["default_grant_type"], rec["public_client"] = "authorization_code", "false"
	case "sys_choice":
		rec["inactive"], rec["language"], rec["sequence"] = "false", "en", "0"
	case "sys_properties":
		rec["type"] = "string"
	}
	if isTask(t) {
		rec["active"], rec["escalation"], rec["made_sla"], rec["knowledge"] = "true", "0", "true", "false"
		rec["opened_at"] = now
		rec["opened_by"] = s.UserID
		rec["approval"] = "not requested"
		rec["upon_approval"], rec["upon_reject"] = "proceed", "cancel"
		rec["contact_type"] = ""
		rec["reassignment_count"] = "0"
		rec["sys_domain"], rec["sys_domain_path"] = "global", "/"
	}
}

// priorityMatrix is the incident priority data lookup: impact x urgency.
var priorityMatrix = map[[2]string]string{
	{"1", "1"}: "1", {"1", "2"}: "2", {"1", "3"}: "3",
	{"2", "1"}: "2", {"2", "2"}: "3", {"2", "3"}: "4",
	{"3", "1"}: "3", {"3", "2"}: "4", {"3", "3"}: "5",
}

// applyRules runs after the client's values are in: computed fields and the
// state model. prev is the record before an update, nil on insert.
func (in *Instance) applyRules(s *Session, t *Table, rec, prev Record, now string) {
	if t.Name == "problem" {
		// problem_state mirrors state; a client that sets only
		// problem_state (as the ansible problem module does) moves state.
		if prev != nil && rec["problem_state"] != prev["problem_state"] && rec["state"] == prev["state"] {
			rec["state"] = rec["problem_state"]
		}
	}
	if t.Name == "incident" || t.Name == "problem" {
		// Priority is a data lookup on incident and read-only: whatever the
		// client sent is replaced (def-prio-lookup-rules.md). Problems
		// follow the same matrix (a fresh instance's problem with impact
		// and urgency 3 has priority 5: the sample record of the ansible
		// servicenow.itsm problem module). The base
		// system has no such lookup for change_request, whose priority is
		// an ordinary field defaulting to 4 - Low.
		if p, ok := priorityMatrix[[2]string{rec["impact"], rec["urgency"]}]; ok {
			rec["priority"] = p
		} else if prev != nil {
			rec["priority"] = prev["priority"]
		} else {
			rec["priority"] = "5"
		}
		if t.Name == "incident" {
			rec["incident_state"] = rec["state"]
			if rec["state"] != "3" {
				rec["hold_reason"] = ""
			}
		}
	}
	if !isTask(t) {
		if t.Name == "sys_user" && rec["name"] == "" {
			rec["name"] = strings.TrimSpace(rec["first_name"] + " " + rec["last_name"])
		}
		return
	}
	if rec["state"] == "" {
		if prev != nil {
			rec["state"] = prev["state"]
		}
	}
	if rec["number"] != "" {
		rec["task_effective_number"] = rec["number"]
	}
	if prev != nil && rec["assignment_group"] != prev["assignment_group"] && prev["assignment_group"] != "" {
		// Moving a task to another group counts as a reassignment.
		n, _ := strconv.Atoi(rec["reassignment_count"])
		rec["reassignment_count"] = strconv.Itoa(n + 1)
	}
	closed := closedStates[t.Name][rec["state"]]
	rec["active"] = strconv.FormatBool(!closed)
	entered := func(state string) bool { return rec["state"] == state && (prev == nil || prev["state"] != state) }
	switch t.Name {
	case "incident":
		if entered("6") {
			rec["resolved_at"], rec["resolved_by"] = now, s.UserID
		}
		if entered("7") {
			rec["closed_at"], rec["closed_by"] = now, s.UserID
			if rec["resolved_at"] == "" {
				rec["resolved_at"], rec["resolved_by"] = now, s.UserID
			}
		}
		if prev != nil && closedStates["incident"][prev["state"]] && !closed {
			// Reopening clears the resolution, as the incident state model does.
			rec["resolved_at"], rec["resolved_by"], rec["closed_at"], rec["closed_by"] = "", "", "", ""
			n, _ := strconv.Atoi(rec["reopen_count"])
			rec["reopen_count"] = strconv.Itoa(n + 1)
			rec["reopened_by"], rec["reopened_time"] = s.UserID, now
		}
	case "problem":
		rec["problem_state"] = rec["state"]
		if entered(problemResolved) {
			rec["resolved_at"], rec["resolved_by"] = now, s.UserID
		}
		if entered(problemClosed) {
			rec["closed_at"], rec["closed_by"] = now, s.UserID
			if rec["resolved_at"] == "" {
				rec["resolved_at"], rec["resolved_by"] = now, s.UserID
			}
		}
		wasDone := prev != nil && (prev["state"] == problemResolved || prev["state"] == problemClosed)
		if wasDone && rec["state"] != problemResolved && rec["state"] != problemClosed {
			rec["resolved_at"], rec["resolved_by"], rec["closed_at"], rec["closed_by"] = "", "", "", ""
			n, _ := strconv.Atoi(rec["reopen_count"])
			rec["reopen_count"] = strconv.Itoa(n + 1)
			rec["reopened_by"], rec["reopened_at"] = s.UserID, now
		}
	case "change_request", "task":
		if closed && (prev == nil || !closedStates[t.Name][prev["state"]]) {
			rec["closed_at"], rec["closed_by"] = now, s.UserID
		}
	}
}

// closeFieldLabels are the labels the data policy message names.
var closeFieldLabels = map[string][2]string{
	"incident":       {"Resolution code", "Resolution notes"},
	"change_request": {"Close code", "Close notes"},
}

// checkDataPolicy enforces the optional data policy: resolving or closing
// needs close_code and close_notes.
func (in *Instance) checkDataPolicy(t *Table, rec Record) error {
	if !in.dataPolicy.Load() {
		return nil
	}
	if t.Name == "problem" {
		// The Madrid problem data policy: resolving or closing a problem
		// needs a resolution code.
		if (rec["state"] == problemResolved || rec["state"] == problemClosed) && strings.TrimSpace(rec["resolution_code"]) == "" {
			return &APIError{Status: http.StatusForbidden,
				Message: "Data Policy Exception: The following fields are mandatory: Resolution code"}
		}
		return nil
	}
	labels, ok := closeFieldLabels[t.Name]
	if !ok {
		return nil
	}
	resolving := (t.Name == "incident" && (rec["state"] == "6" || rec["state"] == "7")) ||
		(t.Name == "change_request" && rec["state"] == "3")
	if !resolving {
		return nil
	}
	var missing []string
	if strings.TrimSpace(rec["close_code"]) == "" {
		missing = append(missing, labels[0])
	}
	if strings.TrimSpace(rec["close_notes"]) == "" {
		missing = append(missing, labels[1])
	}
	if len(missing) == 0 {
		return nil
	}
	return &APIError{Status: http.StatusForbidden,
		Message: "Data Policy Exception: The following fields are mandatory: " + strings.Join(missing, ", ")}
}
