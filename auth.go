package scorebridge

import (
	"context"
	"time"
)

// Account providers: how a person proves who they are.
const (
	ProviderLocal = "local" // a name and a password kept (hashed) by the center
	ProviderOIDC  = "oidc"  // the organisation's identity provider over OpenID Connect
)

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return oneOf(Roles, role) }

// Account is a person who can sign in to the center.
type Account struct {
	ID string `json:"id"`
	// Name is the sign-in name for a local account and the display name
	// everywhere; unique.
	Name     string `json:"name"`
	Role     string `json:"role"`
	Provider string `json:"provider"`
	// Subject is issuer + " " + sub for an OIDC account, "" for a local one.
	Subject string `json:"-"`
	// MustChangePassword is set on a generated first-run password: until it
	// is changed the account can do nothing else.
	MustChangePassword bool       `json:"mustChangePassword"`
	CreatedAt          time.Time  `json:"createdAt"`
	LastSignInAt       *time.Time `json:"lastSignInAt"`
}

// User returns the acting user an account signs in as.
func (a *Account) User() *User { return &User{ID: a.ID, Name: a.Name, Role: a.Role} }

// MinPasswordLength is the shortest password a local account may have.
const MinPasswordLength = 12

// AccountService keeps the people who can sign in.
type AccountService interface {
	// CreateAccount stores a local account with a password hashed by a slow
	// hash (bcrypt). Returns EINVALID (bad name, role or a password shorter
	// than MinPasswordLength) and ECONFLICT (the name is taken).
	CreateAccount(ctx context.Context, a *Account, password string) error

	// CountAccounts returns how many accounts exist, so the first start can
	// tell that it must create an admin.
	CountAccounts(ctx context.Context) (int, error)

	// FindAccountByID returns ENOTFOUND.
	FindAccountByID(ctx context.Context, id string) (*Account, error)

	// FindAccountByName returns ENOTFOUND.
	FindAccountByName(ctx context.Context, name string) (*Account, error)

	// FindAccounts returns every account by name.
	FindAccounts(ctx context.Context) ([]*Account, error)

	// Authenticate checks a local account's name and password and records
	// the sign-in time. Returns EUNAUTHORIZED, with the same message whether
	// the name or the password was wrong.
	Authenticate(ctx context.Context, name, password string) (*Account, error)

	// ChangePassword replaces a local account's password after checking the
	// current one, and clears MustChangePassword. Returns EUNAUTHORIZED (the
	// current password is wrong) and EINVALID (the new one is too short or
	// equals the current one).
	ChangePassword(ctx context.Context, id, current, next string) error

	// SignInOIDC finds or creates the account of an identity provider's
	// subject, updating its name and role from the claims of this sign-in
	// (the provider is the authority on both). Returns EINVALID.
	SignInOIDC(ctx context.Context, subject, name, role string) (*Account, error)
}

// Session is a signed-in browser. Its token lives only in the browser's
// cookie; the center keeps a hash of it.
type Session struct {
	AccountID  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end, whatever the activity.
	ExpiresAt time.Time
}

// SessionService keeps signed-in browsers.
type SessionService interface {
	// CreateSession starts a session for an account and returns the token
	// the cookie carries. A new token is made on every sign-in, so a token
	// planted before sign-in is never promoted (no fixation).
	CreateSession(ctx context.Context, accountID string) (token string, err error)

	// FindSession returns the live session of a token and its account,
	// extending its idle deadline. Returns EUNAUTHORIZED when the token is
	// unknown, idle too long or past its absolute end.
	FindSession(ctx context.Context, token string) (*Session, *Account, error)

	// DeleteSession ends a session (sign-out). Deleting an unknown token is
	// not an error.
	DeleteSession(ctx context.Context, token string) error

	// DeleteAccountSessions ends every session of an account, for example
	// after a password change.
	DeleteAccountSessions(ctx context.Context, accountID string) error
}

// APITokenPrefix starts every API token, so a leaked one is recognisable by
// secret scanners and never mistaken for a session.
const APITokenPrefix = "sbt_"

// APIToken is a credential for automation. Its secret is shown once at
// creation; the center keeps only its SHA-256.
type APIToken struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// Hint is the start of the secret, enough to recognise a token in a list.
	Hint       string     `json:"hint"`
	CreatedBy  string     `json:"createdBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// User returns the acting user a token authenticates as. Its name says it
// is a token, so history and audit records tell automation from people.
func (t *APIToken) User() *User {
	return &User{ID: "token:" + t.ID, Name: "token:" + t.Name, Role: t.Role}
}

// Active reports whether the token can still be used at now.
func (t *APIToken) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// APITokenService keeps API tokens.
type APITokenService interface {
	// CreateAPIToken stores a new token (Name, Role and ExpiresAt from t;
	// the rest is filled in) and returns its secret, which is not kept.
	// Records the token.create audit event with it. Returns EINVALID (empty
	// name, bad role, expiry in the past).
	CreateAPIToken(ctx context.Context, t *APIToken) (secret string, err error)

	// FindAPITokens returns every token, revoked and expired included,
	// newest first.
	FindAPITokens(ctx context.Context) ([]*APIToken, error)

	// RevokeAPIToken stops a token at once and records the token.revoke
	// audit event with it. Returns ENOTFOUND.
	RevokeAPIToken(ctx context.Context, id string) error

	// AuthenticateAPIToken returns the token a secret belongs to and records
	// its use. Returns EUNAUTHORIZED when the secret is unknown, expired or
	// revoked.
	AuthenticateAPIToken(ctx context.Context, secret string) (*APIToken, error)
}
