package scorebridge

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditStateNames is the audit action of an admin renaming ticket states.
const AuditStateNames = "state_names.change"

// MaxStateNameLength caps a state name an admin gives: a badge and a card
// row have room for about that much.
const MaxStateNameLength = 80

// The ServiceNow tables whose state lists the center names.
const (
	StateTableIncident = "incident"
	StateTableChange   = "change_request"
	StateTableProblem  = "problem"
)

// StateTables lists them in the order the configuration page shows them.
var StateTables = []string{StateTableIncident, StateTableChange, StateTableProblem}

// StateTable returns the table whose state list names a ticket type's
// states.
func StateTable(t TicketType) string {
	switch t {
	case TicketChange:
		return StateTableChange
	case TicketProblem:
		return StateTableProblem
	}
	return StateTableIncident
}

// TicketTypeOfTable is StateTable's inverse; false for a table the center
// does not track.
func TicketTypeOfTable(table string) (TicketType, bool) {
	switch table {
	case StateTableIncident:
		return TicketIncident, true
	case StateTableChange:
		return TicketChange, true
	case StateTableProblem:
		return TicketProblem, true
	}
	return "", false
}

// builtinStateNames are the state labels of a fresh instance, the last
// resort when neither the admin nor the instance names a value.
var builtinStateNames = map[TicketType]map[string]string{
	TicketIncident: {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"},
	TicketChange:   {"-5": "New", "-4": "Assess", "-3": "Authorize", "-2": "Scheduled", "-1": "Implement", "0": "Review", "3": "Closed", "4": "Canceled"},
	TicketProblem:  {"101": "New", "102": "Assess", "103": "Root Cause Analysis", "104": "Fix in Progress", "106": "Resolved", "107": "Closed"},
}

// BuiltinStateName is a fresh instance's label of a state value, "" when a
// fresh instance has no such value.
func BuiltinStateName(t TicketType, value string) string { return builtinStateNames[t][value] }

// UnknownStateName is what a state value no list names shows as: the value
// is kept visible, so a page or a count never breaks on it.
func UnknownStateName(value string) string { return "Unknown state (" + value + ")" }

// StateLabel is one state value of a table as the instance's choice list
// (sys_choice) has it.
type StateLabel struct {
	Table    string `json:"table"`
	Value    string `json:"value"`
	Label    string `json:"label"`
	Sequence int    `json:"sequence"`
}

// StateRename is an admin's name for a state value, shown in the center
// instead of the instance's label.
type StateRename struct {
	Table string `json:"table"`
	Value string `json:"value"`
	Name  string `json:"name"`
}

// Validate checks one rename: a table the center tracks, an integer value
// (ServiceNow's state fields are integers) and a name of 1 to
// MaxStateNameLength characters. field prefixes the error's field, such as
// "renames[2]".
func (r *StateRename) Validate(field string) error {
	r.Name = strings.TrimSpace(r.Name)
	if _, ok := TicketTypeOfTable(r.Table); !ok {
		return FieldErrorf(field+".table", "table must be one of %s (got %q)", strings.Join(StateTables, ", "), r.Table)
	}
	if _, err := strconv.Atoi(r.Value); err != nil || strings.TrimSpace(r.Value) != r.Value {
		return FieldErrorf(field+".value", "value must be a state's whole number, such as 2 or -5 (got %q)", r.Value)
	}
	if r.Name == "" {
		return FieldErrorf(field+".name", "the name of %s state %s must not be empty; leave the state out to show the instance's label", r.Table, r.Value)
	}
	if !utf8.ValidString(r.Name) || strings.ContainsAny(r.Name, "\x00\r\n") {
		return FieldErrorf(field+".name", "the name of %s state %s must be one line of text", r.Table, r.Value)
	}
	if n := utf8.RuneCountInString(r.Name); n > MaxStateNameLength {
		return FieldErrorf(field+".name", "the name of %s state %s must be at most %d characters (got %d)", r.Table, r.Value, MaxStateNameLength, n)
	}
	return nil
}

// ValidateRenames checks every rename and that no state is renamed twice.
func ValidateRenames(renames []StateRename) error {
	seen := map[string]bool{}
	for i := range renames {
		field := fmt.Sprintf("renames[%d]", i)
		if err := renames[i].Validate(field); err != nil {
			return err
		}
		k := renames[i].Table + "|" + renames[i].Value
		if seen[k] {
			return FieldErrorf(field, "%s state %s is renamed twice", renames[i].Table, renames[i].Value)
		}
		seen[k] = true
	}
	return nil
}

// StateNames names the ticket states of one connection: the admin's rename
// wins over the instance's label, which wins over a fresh instance's.
type StateNames struct {
	// Labels and Renames are keyed by table, then value.
	Labels  map[string]map[string]StateLabel
	Renames map[string]map[string]string
	// RefreshedAt is when the labels were last read from the instance;
	// zero when never.
	RefreshedAt time.Time
}

// Name returns the name a ticket state shows: "" for no state (a ticket
// not sent yet), "Unknown state (N)" for a value nothing names.
func (n *StateNames) Name(t TicketType, value string) string {
	if value == "" {
		return ""
	}
	table := StateTable(t)
	if n != nil {
		if s := n.Renames[table][value]; s != "" {
			return s
		}
		if l, ok := n.Labels[table][value]; ok && l.Label != "" {
			return l.Label
		}
	}
	if s := BuiltinStateName(t, value); s != "" {
		return s
	}
	return UnknownStateName(value)
}

// StateNameEntry is one state on the configuration page and in the API:
// every name it has and the one that shows.
type StateNameEntry struct {
	Table         string `json:"table"`
	Value         string `json:"value"`
	InstanceLabel string `json:"instanceLabel"`
	DefaultLabel  string `json:"defaultLabel"`
	Rename        string `json:"rename"`
	Name          string `json:"name"`
}

// Entries lists every state any source names, per table in StateTables'
// order, then by the instance's sequence (fresh-instance values it does not
// list after, by number).
func (n *StateNames) Entries() []StateNameEntry {
	var out []StateNameEntry
	for _, table := range StateTables {
		t, _ := TicketTypeOfTable(table)
		values := map[string]bool{}
		for v := range builtinStateNames[t] {
			values[v] = true
		}
		if n != nil {
			for v := range n.Labels[table] {
				values[v] = true
			}
			for v := range n.Renames[table] {
				values[v] = true
			}
		}
		list := make([]StateNameEntry, 0, len(values))
		seq := map[string]int{}
		for v := range values {
			e := StateNameEntry{Table: table, Value: v, DefaultLabel: BuiltinStateName(t, v), Name: n.Name(t, v)}
			seq[v] = 1 << 30
			if n != nil {
				if l, ok := n.Labels[table][v]; ok {
					e.InstanceLabel, seq[v] = l.Label, l.Sequence
				}
				e.Rename = n.Renames[table][v]
			}
			list = append(list, e)
		}
		sort.Slice(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if seq[a.Value] != seq[b.Value] {
				return seq[a.Value] < seq[b.Value]
			}
			x, _ := strconv.Atoi(a.Value)
			y, _ := strconv.Atoi(b.Value)
			return x < y
		})
		out = append(out, list...)
	}
	return out
}

// StateNameService keeps the ticket state names of each connection.
type StateNameService interface {
	// StateNames returns a connection's names. ENOTFOUND for no such
	// connection.
	StateNames(ctx context.Context, connectionID string) (*StateNames, error)
	// RefreshStateNames reads the instance's state choice lists and stores
	// them as the connection's labels; the admin's renames stay.
	RefreshStateNames(ctx context.Context, connectionID string) (*StateNames, error)
	// RenameStates replaces the connection's renames with renames (none
	// clears them), audited in the same transaction. EINVALID names the
	// bad rename.
	RenameStates(ctx context.Context, connectionID string, renames []StateRename) (*StateNames, error)
}
