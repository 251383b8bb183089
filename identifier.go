package scorebridge

import (
	"unicode"
)

// reservedIDs are ids no record may take: "." and ".." are path steps, so
// a URL built from them names another page, and "new" is the path of the
// creation form (/actions/new).
var reservedIDs = map[string]bool{".": true, "..": true, "new": true}

// ReservedID reports whether id is one no record may take.
func ReservedID(id string) bool { return reservedIDs[id] }

// hiddenRune reports whether r changes how text reads without being seen:
// a control character (NUL, escape, newline), a format character (zero
// width space, soft hyphen) or a bidirectional override or isolate.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r)
}

// ValidateIdentifier refuses an identifier (a client id, a name, an id, a
// user name) that holds a control, format or bidirectional character:
// such characters are never part of a real identifier, and they make one
// read as another or cut it short where it is stored or logged. Returns
// EINVALID naming field.
func ValidateIdentifier(field, value string) error {
	for _, r := range value {
		if hiddenRune(r) {
			return FieldErrorf(field, "The %s must not hold control or invisible characters (found %U).", field, r)
		}
	}
	return nil
}
