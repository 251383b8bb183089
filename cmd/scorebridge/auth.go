package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/web"
)

// authConfig is the part of the center's configuration about signing in.
type authConfig struct {
	// AdminPassword is the first admin's password on a first start
	// (SCOREBRIDGE_ADMIN_PASSWORD, environment only: a flag would show in
	// the process list). Default: a generated one-time password, printed
	// once.
	AdminPassword string
	// SecureCookies marks cookies Secure and sends HSTS for a center served
	// over HTTPS by a proxy (SCOREBRIDGE_SECURE_COOKIES). Default false.
	SecureCookies bool
	// TrustedProxies are the proxies (CIDRs or addresses, comma-separated)
	// whose X-Forwarded-For / Forwarded headers name the real client
	// (SCOREBRIDGE_TRUSTED_PROXIES). Default none: the headers are ignored.
	TrustedProxies string
	// SessionIdle and SessionMax end sessions after inactivity and after
	// sign-in. Defaults 2h and 12h.
	SessionIdle, SessionMax time.Duration

	// OIDC sign-in; enabled when OIDCIssuer is set.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string // SCOREBRIDGE_OIDC_CLIENT_SECRET or _FILE only
	OIDCRedirectURL  string
	OIDCScopes       string
	OIDCRoleClaim    string
	OIDCAdmins       string
	OIDCOperators    string
	OIDCName         string
}

func envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(getenv(name)); err == nil {
		return d
	}
	return def
}

func (c *authConfig) register(fs *flag.FlagSet, getenv func(string) string) {
	c.AdminPassword = getenv("SCOREBRIDGE_ADMIN_PASSWORD")
	secure, _ := strconv.ParseBool(getenv("SCOREBRIDGE_SECURE_COOKIES"))
	fs.BoolVar(&c.SecureCookies, "secure-cookies", secure, "mark cookies Secure and send HSTS: set when a proxy serves the center over HTTPS (env SCOREBRIDGE_SECURE_COOKIES)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", getenv("SCOREBRIDGE_TRUSTED_PROXIES"), "proxies whose X-Forwarded-For / Forwarded headers name the client, as CIDRs or addresses, comma-separated; none by default (env SCOREBRIDGE_TRUSTED_PROXIES)")
	fs.DurationVar(&c.SessionIdle, "session-idle", envDuration(getenv, "SCOREBRIDGE_SESSION_IDLE", scorebridge.DefaultSessionIdle), "end a session unused this long (env SCOREBRIDGE_SESSION_IDLE)")
	fs.DurationVar(&c.SessionMax, "session-max", envDuration(getenv, "SCOREBRIDGE_SESSION_MAX", scorebridge.DefaultSessionAbsolute), "end a session this long after sign-in (env SCOREBRIDGE_SESSION_MAX)")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", getenv("SCOREBRIDGE_OIDC_ISSUER"), "OpenID Connect issuer URL; enables sign-in with it (env SCOREBRIDGE_OIDC_ISSUER)")
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", getenv("SCOREBRIDGE_OIDC_CLIENT_ID"), "OpenID Connect client id (env SCOREBRIDGE_OIDC_CLIENT_ID)")
	fs.StringVar(&c.OIDCRedirectURL, "oidc-redirect-url", getenv("SCOREBRIDGE_OIDC_REDIRECT_URL"), "this center's callback, https://<center>/auth/oidc/callback (env SCOREBRIDGE_OIDC_REDIRECT_URL)")
	fs.StringVar(&c.OIDCScopes, "oidc-scopes", envOr(getenv, "SCOREBRIDGE_OIDC_SCOPES", "profile,email"), "scopes besides openid, comma-separated (env SCOREBRIDGE_OIDC_SCOPES)")
	fs.StringVar(&c.OIDCRoleClaim, "oidc-role-claim", envOr(getenv, "SCOREBRIDGE_OIDC_ROLE_CLAIM", "groups"), "ID token claim that decides the role (env SCOREBRIDGE_OIDC_ROLE_CLAIM)")
	fs.StringVar(&c.OIDCAdmins, "oidc-admin-values", getenv("SCOREBRIDGE_OIDC_ADMIN_VALUES"), "role claim values that make a security admin, comma-separated (env SCOREBRIDGE_OIDC_ADMIN_VALUES)")
	fs.StringVar(&c.OIDCOperators, "oidc-operator-values", getenv("SCOREBRIDGE_OIDC_OPERATOR_VALUES"), "role claim values that make a security operator, comma-separated; anyone else is a reader (env SCOREBRIDGE_OIDC_OPERATOR_VALUES)")
	fs.StringVar(&c.OIDCName, "oidc-name", getenv("SCOREBRIDGE_OIDC_NAME"), "the identity provider's name on the sign-in button (env SCOREBRIDGE_OIDC_NAME)")
	// The client secret is read from the environment or a file only, never
	// a flag, and never printed.
	c.OIDCClientSecret = getenv("SCOREBRIDGE_OIDC_CLIENT_SECRET")
	if path := getenv("SCOREBRIDGE_OIDC_CLIENT_SECRET_FILE"); path != "" && c.OIDCClientSecret == "" {
		c.OIDCClientSecret = "file:" + path
	}
}

// resolve reads the client secret file, when one was named.
func (c *authConfig) resolve() error {
	if path, ok := strings.CutPrefix(c.OIDCClientSecret, "file:"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("SCOREBRIDGE_OIDC_CLIENT_SECRET_FILE: %w", err)
		}
		c.OIDCClientSecret = strings.TrimSpace(string(b))
	}
	return nil
}

func (c *authConfig) validate() error {
	if scorebridge.ValidateSessionLifetimes(c.SessionIdle, c.SessionMax) != nil {
		return usagef("--session-idle and --session-max must be positive, idle no longer than max")
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

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// authServices are the stores behind sign-in and the audit log.
type authServices struct {
	accounts *sqlstore.AccountStore
	sessions *sqlstore.SessionStore
	tokens   *sqlstore.APITokenStore
	audit    *sqlstore.AuditStore
}

func newAuthServices(db *sqlstore.DB) *authServices {
	return &authServices{
		accounts: sqlstore.NewAccountStore(db),
		sessions: sqlstore.NewSessionStore(db),
		tokens:   sqlstore.NewAPITokenStore(db),
		audit:    sqlstore.NewAuditStore(db),
	}
}

// webAuth is the web server's sign-in configuration.
func (a *authServices) webAuth(cfg authConfig) (*web.Auth, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	a.sessions.Idle, a.sessions.Absolute = cfg.SessionIdle, cfg.SessionMax
	wa := &web.Auth{Accounts: a.accounts, Sessions: a.sessions, Tokens: a.tokens, SecureCookies: cfg.SecureCookies}
	if cfg.OIDCIssuer != "" {
		wa.OIDC = &web.OIDCConfig{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: cfg.OIDCRedirectURL, Scopes: splitList(cfg.OIDCScopes), RoleClaim: cfg.OIDCRoleClaim,
			AdminValues: splitList(cfg.OIDCAdmins), OperatorValues: splitList(cfg.OIDCOperators), DisplayName: cfg.OIDCName,
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
	if err := a.accounts.CreateAccount(ctx, acc, password); err != nil {
		if scorebridge.ErrorCode(err) == scorebridge.ECONFLICT {
			return nil, nil // another replica created it first
		}
		return nil, fmt.Errorf("create the first admin: %w", err)
	}
	ctx = scorebridge.NewContextWithUser(ctx, &scorebridge.User{ID: "system", Name: "system"})
	if err := a.audit.RecordAuditEvent(ctx, &scorebridge.AuditEvent{Action: scorebridge.AuditAccountCreate, Target: acc.ID,
		Detail: map[string]any{"name": acc.Name, "role": acc.Role, "reason": "first start"}}); err != nil {
		return nil, err
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
