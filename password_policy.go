package scorebridge

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// commonPasswordList is zxcvbn's list of the 30,000 passwords most common
// in breached password sets (see common_passwords.LICENSE), shipped in the
// binary so the check needs no network.
//
//go:embed common_passwords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := make(map[string]bool, 30000)
	for _, w := range strings.Split(commonPasswordList, "\n") {
		if w = strings.TrimSpace(w); w != "" {
			set[w] = true
		}
	}
	return set
})

// CommonPassword reports whether a password is one attackers try first: on
// the list of common and breached passwords, or such a password with only
// digits and symbols around it ("password1234!"), or one short piece
// repeated ("abcabcabcabc").
func CommonPassword(password string) bool {
	p := strings.ToLower(password)
	set := commonPasswords()
	if set[p] {
		return true
	}
	core := strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	if core != p && (core == "" || set[core]) {
		return true
	}
	for n := 1; n <= len(p)/2; n++ {
		if len(p)%n == 0 && strings.Repeat(p[:n], len(p)/n) == p {
			return true
		}
	}
	return false
}

// ValidatePasswordFor checks a new password of the account named name:
// the rules of ValidatePassword, and not the account's name or built
// around it. Returns EINVALID.
func ValidatePasswordFor(password, name string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	letters := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	n, p := letters(name), letters(password)
	if n != "" && (p == n || (len([]rune(n)) >= 4 && strings.Contains(p, n))) {
		return FieldErrorf("password", "A password must not be or contain the account's name.")
	}
	return nil
}
