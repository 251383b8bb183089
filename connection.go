package scorebridge

import (
	"context"
	"strings"
	"time"
)

// Connection statuses. Only "connected" lets work reach the instance; the
// others say who must act.
const (
	// ConnectionPending: created, never authorized yet. An admin must
	// authorize it.
	ConnectionPending = "pending"
	// ConnectionConnected: tokens are valid and calls succeed.
	ConnectionConnected = "connected"
	// ConnectionAuthorizationRequired: the instance refused the refresh
	// token (expired, revoked, client changed). An admin must authorize
	// again; queued work waits for it.
	ConnectionAuthorizationRequired = "authorization_required"
	// ConnectionError: the last call failed for a reason other than
	// authorization (instance unreachable, TLS, ACL). LastError says why;
	// scorebridge keeps trying.
	ConnectionError = "error"
)

// ConnectionStatusLabel returns the words a person reads for a status.
func ConnectionStatusLabel(status string) string {
	switch status {
	case ConnectionPending:
		return "Not authorized yet"
	case ConnectionConnected:
		return "Connected"
	case ConnectionAuthorizationRequired:
		return "Authorization required"
	case ConnectionError:
		return "Error"
	}
	return status
}

// Connection is a ServiceNow instance the center calls, as a person or the
// API sees it. Secrets (client secret, tokens) are deliberately absent: they
// never leave the connection service.
type Connection struct {
	ID          string `json:"id"`
	InstanceURL string `json:"instanceUrl"` // https://acme.service-now.com, no trailing slash
	ClientID    string `json:"clientId"`    // the oauth_entity's client_id; not a secret
	Status      string `json:"status"`
	IsDefault   bool   `json:"isDefault"`
	// IntegrationUser is the ServiceNow user_name the tokens should act
	// as: the one the installation checklist created, or the first user
	// that authorized the connection.
	IntegrationUser string `json:"integrationUser"`
	// AuthorizedAs is the user_name the current tokens act as, as the
	// instance said at the last authorization ("" when it did not say).
	// It differs from IntegrationUser when an admin authorized with their
	// own account; see WrongUser.
	AuthorizedAs string `json:"authorizedAs"`
	// ConnectedSince is when the current authorization was granted.
	ConnectedSince *time.Time `json:"connectedSince"`
	// AccessTokenExpiresAt and RefreshTokenExpiresAt are when the current
	// tokens stop working. After the refresh token, an admin must authorize
	// again.
	AccessTokenExpiresAt  *time.Time `json:"accessTokenExpiresAt"`
	RefreshTokenExpiresAt *time.Time `json:"refreshTokenExpiresAt"`
	// RefreshTokenLifespan is the oauth_entity's refresh_token_lifespan,
	// used to compute RefreshTokenExpiresAt (ServiceNow does not return it).
	RefreshTokenLifespan time.Duration `json:"-"`
	// LastSuccessAt is the last call the instance answered successfully.
	LastSuccessAt *time.Time `json:"lastSuccessAt"`
	// LastError is what went wrong last, in words, and LastErrorCause a
	// short stable name of the cause ("refresh_refused", "unreachable",
	// "tls", "forbidden", ...). Both empty after a success.
	LastError      string     `json:"lastError"`
	LastErrorCause string     `json:"lastErrorCause"`
	LastErrorAt    *time.Time `json:"lastErrorAt"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

// WrongUser reports whether the connection was authorized as another
// ServiceNow user than its integration user, which an admin must either
// accept or redo: tickets would otherwise be made, and changes read, as
// that person.
func (c *Connection) WrongUser() bool {
	return c.AuthorizedAs != "" && c.IntegrationUser != "" && !strings.EqualFold(c.AuthorizedAs, c.IntegrationUser)
}

// AuthorizationInFlight is an authorization an admin started and the
// instance has not answered yet, as the callback finds it by its state.
type AuthorizationInFlight struct {
	ConnectionID string
	// Binding names the browser session that started it (a hash), or ""
	// when it was started without one (from the API).
	Binding  string
	Verifier string
}

// RefreshTokenWarning is how long before the refresh token runs out the
// center starts warning that an admin will have to authorize again.
const RefreshTokenWarning = 14 * 24 * time.Hour

// RefreshTokenExpiresSoon reports whether the refresh token runs out within
// RefreshTokenWarning of now.
func (c *Connection) RefreshTokenExpiresSoon(now time.Time) bool {
	return c.RefreshTokenExpiresAt != nil && c.RefreshTokenExpiresAt.Sub(now) < RefreshTokenWarning
}

// DefaultRefreshTokenLifespan is ServiceNow's default oauth_entity
// refresh_token_lifespan (8,640,000 s, 100 days).
const DefaultRefreshTokenLifespan = 8640000 * time.Second

// ConnectionSecrets are a connection's secrets in clear, for the connection
// service only: never for a page, an API answer or a log line.
type ConnectionSecrets struct {
	ClientSecret string
	AccessToken  string
	RefreshToken string
}

// ConnectionTokens are what an authorization or a refresh yields.
type ConnectionTokens struct {
	AccessToken           string
	RefreshToken          string
	AccessTokenExpiresAt  time.Time
	RefreshTokenExpiresAt time.Time
}

// ConnectionCreate is what an admin gives to connect with an OAuth
// application registry entry (oauth_entity) they made on the instance.
type ConnectionCreate struct {
	// Instance is an instance name ("acme" means https://acme.service-now.com)
	// or a full https URL (on-premise and test instances).
	Instance     string `json:"instance"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// ChecklistInput is what the installation checklist needs. The admin
// credentials are used for that one run and never stored.
type ChecklistInput struct {
	Instance      string `json:"instance"`
	AdminUser     string `json:"adminUser"`
	AdminPassword string `json:"adminPassword"`
	// IntegrationUser is the user_name to create; default "scorebridge.integration".
	IntegrationUser string `json:"integrationUser"`
	// IntegrationPassword is the password to give the integration user, so
	// the admin can sign in as it to authorize. When empty, one is
	// generated and returned once in the result. Never stored.
	IntegrationPassword string `json:"integrationPassword"`
	// ResetPassword confirms that an integration user that already exists
	// on the instance may be given a new password (which ends whatever
	// signs in with the old one). Without it the checklist stops before
	// changing that user and says so.
	ResetPassword bool `json:"resetPassword"`
}

// Check is one verdict of the installation checklist or the doctor: what
// was checked, whether it passed, what was found, and the fix in words.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// ChecklistResult is the outcome of an installation checklist run: every
// step with its verdict and, when all passed, the new connection (pending
// authorization by the integration user).
type ChecklistResult struct {
	Checks     []Check     `json:"checks"`
	Connection *Connection `json:"connection"`
	// IntegrationPassword is the password the checklist generated for the
	// integration user when none was given. It is shown once, to the admin
	// who ran the checklist, so they can sign in as that user to authorize;
	// it is never stored.
	IntegrationPassword string `json:"integrationPassword,omitempty"`
}

// ConnectionService connects the center to ServiceNow instances and keeps
// the connections healthy. It is also the InstanceSource every part that
// calls ServiceNow uses. Methods marked (admin) change the connection and
// are for security admins only.
type ConnectionService interface {
	InstanceSource

	// RedirectURL is the center's OAuth callback, which an admin registers
	// as the Redirect URL of the oauth_entity.
	RedirectURL() string

	// FindConnections returns every connection, the default first.
	FindConnections(ctx context.Context) ([]*Connection, error)

	// FindConnectionByID returns a connection, the default one when id is
	// "". Returns ENOTFOUND.
	FindConnectionByID(ctx context.Context, id string) (*Connection, error)

	// CreateConnection (admin) validates the instance and stores a pending
	// connection with the client secret encrypted. The first connection
	// becomes the default. Returns EINVALID (bad instance, empty client id
	// or secret) and ECONFLICT (the instance and client id are already
	// connected).
	CreateConnection(ctx context.Context, in ConnectionCreate) (*Connection, error)

	// RunChecklist (admin) creates the integration user and the
	// oauth_entity on the instance with the admin credentials given, checks
	// each step, and creates the pending connection when every step passed.
	// Step failures are in the result, not the error. Returns EINVALID for
	// bad input.
	RunChecklist(ctx context.Context, in ChecklistInput) (*ChecklistResult, error)

	// AuthorizeURL (admin) starts an authorization: it returns the
	// instance's /oauth_auth.do URL (with a single-use state and a PKCE
	// S256 challenge) that the integration user opens. binding names the
	// browser session that starts it (a hash of its token), so that only
	// that session can complete it; "" when there is none (an API token).
	// Returns ENOTFOUND.
	AuthorizeURL(ctx context.Context, id, binding string) (string, error)

	// CompleteAuthorization finishes an authorization from the callback's
	// state, code and error parameters: it exchanges the code and marks the
	// connection connected. The state is used up whatever the outcome.
	// Returns EINVALID for a missing, unknown, expired or already used
	// state, ECONFLICT when the instance answered with an error (the user
	// chose Deny), EUNAUTHORIZED when the instance refused the code or the
	// client credentials, and EUNAVAILABLE when it could not be reached.
	// bindings are what the callback's request is bound to (its browser
	// session, its account; as for AuthorizeURL); an authorization bound
	// to none of them (started by another session, or by a token of
	// another account) is refused with EFORBIDDEN.
	CompleteAuthorization(ctx context.Context, bindings []string, state, code, oauthError string) (*Connection, error)

	// AcceptAuthorizedUser (admin) keeps an authorization made as another
	// ServiceNow user than the integration user (Connection.WrongUser):
	// that user becomes the integration user. Audited. Returns ENOTFOUND,
	// and ECONFLICT when the connection is not authorized as anyone.
	AcceptAuthorizedUser(ctx context.Context, id string) (*Connection, error)

	// RemoveConnection (admin) revokes the tokens where the instance
	// allows and deletes the connection with its secrets. Returns
	// ENOTFOUND.
	RemoveConnection(ctx context.Context, id string) error

	// SetDefaultConnection (admin) makes a connection the default.
	// Returns ENOTFOUND.
	SetDefaultConnection(ctx context.Context, id string) error

	// Doctor runs every check of the troubleshooting guide against a
	// connection and returns the verdicts, one per cause. Returns ENOTFOUND.
	Doctor(ctx context.Context, id string) ([]Check, error)
}
