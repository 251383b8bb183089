package scorebridge

import "strings"

// The messages for a value outside a closed list are built from the list
// itself (Categories, Sources, States, Sorts, TicketStatuses, Roles), so
// adding a value to a list is the only change a new one needs.

// orList says a list of valid values the way an error message does:
// "a, b or c".
func orList[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// oneOf reports whether v is in values.
func oneOf[T ~string](values []T, v T) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// notOneOf is the EINVALID error for a field whose value is not in values.
func notOneOf[T ~string](field string, values []T, got string) error {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return FieldErrorf(field, "%s must be one of %s (got %q)", field, strings.Join(s, ", "), got)
}
