package snowsim

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // user time zones must resolve on hosts without zoneinfo
)

// authenticate resolves the caller: HTTP Basic against sys_user, or an OAuth
// Bearer token through the installed BearerLookup. Inactive and locked-out
// users are refused like wrong passwords: 401 with the documented body.
func (in *Instance) authenticate(r *http.Request) (*Session, error) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		user, pass, ok := r.BasicAuth()
		if !ok {
			return nil, errNotAuthenticated()
		}
		return in.BasicLogin(user, pass)
	case "bearer":
		in.hooksMu.RLock()
		lookup := in.bearer
		in.hooksMu.RUnlock()
		if lookup == nil {
			return nil, errNotAuthenticated()
		}
		userID, ok := lookup(strings.TrimSpace(cred))
		if !ok {
			return nil, errNotAuthenticated()
		}
		in.mu.RLock()
		defer in.mu.RUnlock()
		u := in.byID[userID]
		if u == nil || u["sys_class_name"] != "sys_user" || !userCanLogIn(u) {
			return nil, errNotAuthenticated()
		}
		s := in.sessionLocked(u)
		s.Method = "bearer"
		return s, nil
	}
	return nil, errNotAuthenticated()
}

// BasicLogin checks a user name and password the way a login does and
// returns the session; the login page of the UI uses it too.
func (in *Instance) BasicLogin(userName, password string) (*Session, error) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	u := in.userByNameLocked(userName)
	if u == nil || !userCanLogIn(u) || !passwordMatches(u["user_password"], password) {
		return nil, errNotAuthenticated()
	}
	s := in.sessionLocked(u)
	s.Method = "basic"
	return s, nil
}

// SessionFor returns the session of an active, unlocked user, for other
// authentication methods (OAuth, the UI login).
func (in *Instance) SessionFor(userID string) (*Session, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	u := in.byID[userID]
	if u == nil || u["sys_class_name"] != "sys_user" || !userCanLogIn(u) {
		return nil, false
	}
	return in.sessionLocked(u), true
}

func userCanLogIn(u Record) bool {
	return u["active"] == "true" && u["locked_out"] != "true"
}

// userByNameLocked finds a user by user_name; logins are case-insensitive.
func (in *Instance) userByNameLocked(name string) Record {
	if name == "" {
		return nil
	}
	for _, id := range in.data["sys_user"].order {
		u := in.byID[id]
		if strings.EqualFold(u["user_name"], name) {
			return u
		}
	}
	return nil
}

func (in *Instance) sessionLocked(u Record) *Session {
	s := &Session{UserID: u["sys_id"], UserName: u["user_name"], Roles: in.rolesLocked(u["sys_id"])}
	s.Location = in.systemLocationLocked()
	if tz := u["time_zone"]; tz != "" {
		if loc, err := loadLocation(tz); err == nil {
			s.Location = loc
		}
	}
	return s
}

// rolesLocked returns the names of the active roles granted to a user.
func (in *Instance) rolesLocked(userID string) map[string]bool {
	roles := map[string]bool{}
	for _, id := range in.data["sys_user_has_role"].order {
		ur := in.byID[id]
		if ur["user"] != userID || (ur["state"] != "" && ur["state"] != "active") {
			continue
		}
		if role := in.byID[ur["role"]]; role != nil {
			roles[role["name"]] = true
		}
	}
	return roles
}

func (in *Instance) systemLocation() *time.Location {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.systemLocationLocked()
}

// systemLocationLocked is the instance's default time zone
// (glide.sys.default.tz), UTC when unset or unknown.
func (in *Instance) systemLocationLocked() *time.Location {
	if tz := in.propertyLocked("glide.sys.default.tz"); tz != "" {
		if loc, err := loadLocation(tz); err == nil {
			return loc
		}
	}
	return time.UTC
}

// locations caches time zones: loading one parses tzdata, and every request
// needs its user's.
var locations sync.Map // name -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// hashPassword returns a salted SHA-256 digest of a user password, the
// one-way storage the platform uses for sys_user.user_password.
func hashPassword(plain string) string {
	if plain == "" {
		return ""
	}
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	sum := sha256.Sum256(append(salt[:], plain...))
	return "sha256$" + hex.EncodeToString(salt[:]) + "$" + hex.EncodeToString(sum[:])
}

func passwordMatches(stored, plain string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 3 || parts[0] != "sha256" || plain == "" {
		return false
	}
	salt, err := hex.DecodeString(parts[1])
	if err != nil {
		return false
	}
	sum := sha256.Sum256(append(salt, plain...))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(parts[2])) == 1
}

// HashSecret returns the digest under which a two-way secret (client secret,
// token) is stored, so secrets never sit in memory or the state file in
// clear. It is deterministic: a presented token is found by its digest.
func HashSecret(plain string) string {
	if plain == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(plain))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SecretMatches reports whether plain is the secret stored as digest.
func SecretMatches(digest, plain string) bool {
	if digest == "" || plain == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(digest), []byte(HashSecret(plain))) == 1
}
