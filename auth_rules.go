package scorebridge

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The rules an account, a password, a session and an API token follow,
// whichever store keeps them and whichever command or page sets them.

// Roles lists every role, from most to least powerful.
var Roles = []string{RoleAdmin, RoleOperator, RoleReader}

// ValidateRole returns EINVALID naming field when role is not one of Roles.
func ValidateRole(field, role string) error {
	if !ValidRole(role) {
		return FieldErrorf(field, "The role must be %s, not %q.", orList(Roles), role)
	}
	return nil
}

// MaxAccountNameLength is the longest account name, in characters.
const MaxAccountNameLength = 100

// ValidateAccountName checks an account's name: the sign-in name of a local
// account and the display name of every account. Returns EINVALID.
func ValidateAccountName(name string) error {
	if strings.TrimSpace(name) != name || name == "" {
		return FieldErrorf("name", "A name must not be empty or start or end with spaces.")
	}
	if utf8.RuneCountInString(name) > MaxAccountNameLength || !utf8.ValidString(name) {
		return FieldErrorf("name", "A name must be valid text of at most %d characters.", MaxAccountNameLength)
	}
	return ValidateIdentifier("name", name)
}

// MaxPasswordBytes is bcrypt's limit: it ignores anything past 72 bytes,
// so a longer password is refused rather than silently shortened.
const MaxPasswordBytes = 72

// ValidatePassword checks a new password against the rules every local
// account follows. Returns EINVALID.
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return FieldErrorf("password", "A password needs at least %d characters.", MinPasswordLength)
	}
	if len(password) > MaxPasswordBytes {
		return FieldErrorf("password", "A password may be at most %d bytes long.", MaxPasswordBytes)
	}
	if CommonPassword(password) {
		return FieldErrorf("password", "This password is among the most common ones (found in breached password lists) or only repeats itself; attackers try those first. Choose another, such as a few unrelated words.")
	}
	return nil
}

// Session lifetimes a center uses unless configured otherwise.
const (
	// DefaultSessionIdle ends a session nobody used for this long.
	DefaultSessionIdle = 2 * time.Hour
	// DefaultSessionAbsolute ends a session this long after sign-in,
	// however active.
	DefaultSessionAbsolute = 12 * time.Hour
)

// ValidateSessionLifetimes checks configured session lifetimes: both
// positive, and the idle one no longer than the absolute one (else it would
// never apply). Returns EINVALID.
func ValidateSessionLifetimes(idle, absolute time.Duration) error {
	if idle <= 0 || absolute <= 0 || idle > absolute {
		return Errorf(EINVALID, "Session lifetimes must be positive, the idle one no longer than the absolute one (got %s and %s).", idle, absolute)
	}
	return nil
}

// MaxAPITokenNameLength is the longest API token name, in characters.
const MaxAPITokenNameLength = 100

// Validate checks what a caller chooses for a new token at now: its Name,
// its Role and an ExpiresAt, when set, in the future. Returns EINVALID.
func (t *APIToken) Validate(now time.Time) error {
	if t.Name == "" || strings.TrimSpace(t.Name) != t.Name || utf8.RuneCountInString(t.Name) > MaxAPITokenNameLength ||
		strings.IndexFunc(t.Name, unicode.IsControl) >= 0 {
		return FieldErrorf("name", "A token needs a name of 1 to %d characters, without control characters or surrounding spaces.", MaxAPITokenNameLength)
	}
	if err := ValidateIdentifier("name", t.Name); err != nil {
		return err
	}
	if err := ValidateRole("role", t.Role); err != nil {
		return err
	}
	if t.ExpiresAt != nil && !t.ExpiresAt.After(now) {
		return FieldErrorf("expires", "The expiry must be in the future.")
	}
	return nil
}
