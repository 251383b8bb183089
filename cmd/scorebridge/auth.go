package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/web"
)

// authConfig is the part of the center's configuration about signing in.
type authConfig struct {
	// AdminPassword is the first admin's password on a first start
	// (a secret: environment or _FILE only). Empty: a generated one-time
	// password, printed once.
	AdminPassword string
	// SecureCookies marks cookies Secure and sends HSTS for a center served
	// over HTTPS by a proxy.
	SecureCookies bool
	// TrustedProxies are the proxies (CIDRs or addresses, comma-separated)
	// whose X-Forwarded-For / Forwarded headers name the real client.
	// Empty: none, the headers are ignored.
	TrustedProxies string
	// SessionIdle and SessionMax end sessions after inactivity and after
	// sign-in; zero means the session store's defaults.
	SessionIdle, SessionMax time.Duration

	// OIDC sign-in; enabled when OIDCIssuer is set.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string // a secret: environment or _FILE only
	OIDCRedirectURL  string
	OIDCScopes       []string
	OIDCRoleClaim    string
	OIDCAdmins       []string
	OIDCOperators    []string
	OIDCName         string
}

// newAuthConfig takes the sign-in settings from the options table.
func newAuthConfig(c *config) authConfig {
	return authConfig{
		AdminPassword: c.String(optAdminPassword),
		SecureCookies: c.Bool(optSecureCookies), TrustedProxies: c.String(optTrustedProxies),
		SessionIdle: c.Duration(optSessionIdle), SessionMax: c.Duration(optSessionMax),
		OIDCIssuer: c.String(optOIDCIssuer), OIDCClientID: c.String(optOIDCClientID),
		OIDCClientSecret: c.String(optOIDCClientSecret), OIDCRedirectURL: c.String(optOIDCRedirectURL),
		OIDCScopes: c.List(optOIDCScopes), OIDCRoleClaim: c.String(optOIDCRoleClaim),
		OIDCAdmins: c.List(optOIDCAdmins), OIDCOperators: c.List(optOIDCOperators), OIDCName: c.String(optOIDCName),
	}
}

func (c *authConfig) validate() error {
	if c.SessionIdle > 0 && c.SessionMax > 0 && scorebridge.ValidateSessionLifetimes(c.SessionIdle, c.SessionMax) != nil {
		return usagef("--session-idle (%v) must not be longer than --session-max (%v)", c.SessionIdle, c.SessionMax)
	}
	if c.AdminPassword != "" {
		if err := scorebridge.ValidatePassword(c.AdminPassword); err != nil {
			return usagef("SCOREBRIDGE_ADMIN_PASSWORD: %s", scorebridge.ErrorMessage(err))
		}
	}
	if c.OIDCIssuer == "" {
		if c.OIDCClientID != "" || c.OIDCRedirectURL != "" {
			return usagef("--oidc-client-id and --oidc-redirect-url need --oidc-issuer")
		}
		return nil
	}
	if c.OIDCClientID == "" || c.OIDCRedirectURL == "" || c.OIDCClientSecret == "" {
		return usagef("--oidc-issuer needs --oidc-client-id, --oidc-redirect-url and SCOREBRIDGE_OIDC_CLIENT_SECRET (or _FILE)")
	}
	return nil
}

// authServices are the stores behind sign-in and the audit log.
type authServices struct {
	accounts *sqlstore.AccountStore
	sessions *sqlstore.SessionStore
	tokens   *sqlstore.APITokenStore
	audit    *sqlstore.AuditStore
}

// passwordCost is the bcrypt cost of the passwords this command hashes; 0
// keeps sqlstore's default. The command's own tests lower it: under the race
// detector one hash at the default cost takes seconds, and they hash dozens.
var passwordCost int

func newAuthServices(db *sqlstore.DB) *authServices {
	accounts := sqlstore.NewAccountStore(db)
	accounts.PasswordCost = passwordCost
	return &authServices{
		accounts: accounts,
		sessions: sqlstore.NewSessionStore(db),
		tokens:   sqlstore.NewAPITokenStore(db),
		audit:    sqlstore.NewAuditStore(db),
	}
}

// webAuth is the web server's sign-in configuration.
func (a *authServices) webAuth(cfg authConfig) (*web.Auth, error) {
	a.sessions.Idle, a.sessions.Absolute = cfg.SessionIdle, cfg.SessionMax
	wa := &web.Auth{Accounts: a.accounts, Sessions: a.sessions, Tokens: a.tokens, SecureCookies: cfg.SecureCookies}
	if cfg.OIDCIssuer != "" {
		wa.OIDC = &web.OIDCConfig{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: cfg.OIDCRedirectURL, Scopes: cfg.OIDCScopes, RoleClaim: cfg.OIDCRoleClaim,
			AdminValues: cfg.OIDCAdmins, OperatorValues: cfg.OIDCOperators, DisplayName: cfg.OIDCName,
		}
	}
	return wa, nil
}

// firstAdminName is the account a first start creates.
const firstAdminName = "admin"

// ensureFirstAdmin creates the first admin when there is no account at
// all, with the configured password or a generated one, and returns what
// the person who started the center must be told (nil when no admin was
// created here: accounts exist, or another replica made it first). Either
// way the admin must choose a new password at first sign-in.
func (a *authServices) ensureFirstAdmin(ctx context.Context, password string) (*firstAdmin, error) {
	n, err := a.accounts.CountAccounts(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	created := &firstAdmin{}
	if password == "" {
		password = oneTimePassword()
		created.Password = password
	}
	acc := &scorebridge.Account{Name: firstAdminName, Role: scorebridge.RoleAdmin, MustChangePassword: true}
	// The store audits the creation (as the first start's) in its own
	// transaction, with the system as its actor.
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "system", Name: "system"})
	if err := a.accounts.CreateAccount(ctx, acc, password); err != nil {
		if scorebridge.ErrorCode(err) == scorebridge.ECONFLICT {
			return nil, nil // another replica created it first
		}
		return nil, fmt.Errorf("create the first admin: %w", err)
	}
	return created, nil
}

// oneTimePassword returns 20 characters from an alphabet without look-alike
// characters: about 110 bits, easy to type once.
func oneTimePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("the system random source failed: " + err.Error())
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:5]) + "-" + string(b[5:10]) + "-" + string(b[10:15]) + "-" + string(b[15:])
}

// printFirstAdmin tells the person who started the center how to sign in
// the first time. It goes to the terminal (stdout), never to the log.
func printFirstAdmin(w io.Writer, url, password string) {
	fmt.Fprintf(w, "\nFirst start: created the account %q (security admin).\n", firstAdminName)
	if password != "" {
		fmt.Fprintf(w, "Sign in at %s/login as %s with this one-time password (shown only now):\n\n    %s\n\n", url, firstAdminName, password)
	} else {
		fmt.Fprintf(w, "Sign in at %s/login as %s with the password in SCOREBRIDGE_ADMIN_PASSWORD.\n", url, firstAdminName)
	}
	fmt.Fprintln(w, "You will choose a new password at first sign-in.")
}

// printDemoSignIn tells the demo's user how to sign in (the first admin's
// one-time password on the first run) and makes an admin API token, so
// the API can be tried at once.
func (c *center) printDemoSignIn(ctx context.Context, w io.Writer) error {
	switch {
	case c.firstAdmin != nil && c.firstAdmin.Password != "":
		fmt.Fprintf(w, "  Sign in:               %s/login as %s, one-time password %s (you choose a new one at first sign-in)\n", c.URL(), firstAdminName, c.firstAdmin.Password)
	case c.firstAdmin != nil:
		fmt.Fprintf(w, "  Sign in:               %s/login as %s, password from SCOREBRIDGE_ADMIN_PASSWORD\n", c.URL(), firstAdminName)
	default:
		fmt.Fprintf(w, "  Sign in:               %s/login with your account (the first run printed the admin's one-time password)\n", c.URL())
	}
	return c.createDemoToken(ctx, w)
}

// createDemoToken makes an admin API token for the demo and prints it.
func (c *center) createDemoToken(ctx context.Context, w io.Writer) error {
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "system", Name: "demo"})
	expires := time.Now().Add(30 * 24 * time.Hour)
	tok := &scorebridge.APIToken{Name: "demo", Role: scorebridge.RoleAdmin, ExpiresAt: &expires}
	secret, err := c.auth.tokens.CreateAPIToken(ctx, tok)
	if err != nil {
		return fmt.Errorf("create the demo API token: %w", err)
	}
	if err := c.auth.audit.RecordAuditEvent(ctx, &scorebridge.AuditEvent{Action: scorebridge.AuditTokenCreate, Target: tok.ID,
		Detail: map[string]any{"name": tok.Name, "role": tok.Role}}); err != nil {
		return err
	}
	fmt.Fprintf(w, "  Admin API token:       %s (valid 30 days, shown only now)\n", secret)
	fmt.Fprintf(w, "  Try the API:           curl -H 'Authorization: Bearer %s' %s/api/v1/score\n\n", secret, c.URL())
	return nil
}

// firstAdmin is what a first start must tell the person who ran it.
type firstAdmin struct {
	// Password is the generated one-time password, "" when it came from
	// SCOREBRIDGE_ADMIN_PASSWORD.
	Password string
}

// openAuth opens the sign-in stores, creates the first admin on a first
// start and returns the web server's sign-in configuration.
func (c *center) openAuth(ctx context.Context, cfg authConfig) (*web.Auth, error) {
	c.auth = newAuthServices(c.db)
	var err error
	if c.firstAdmin, err = c.auth.ensureFirstAdmin(ctx, cfg.AdminPassword); err != nil {
		return nil, err
	}
	return c.auth.webAuth(cfg)
}
