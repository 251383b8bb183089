package scorebridge

import "strings"

// orList says a list of valid values the way an error message does:
// "a, b or c". Messages built from the lists themselves stay true when a
// value is added.
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
