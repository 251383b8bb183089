package connection

import (
	"context"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Store is what the Service keeps in the database: connections with their
// secrets sealed, and authorizations in flight. sqlstore.ConnectionStore
// implements it. A method that makes a change an admin must be able to
// trace takes the audit event describing it and writes both in one
// transaction, so the change is never stored without its record.
type Store interface {
	// FindConnections returns every connection, the default first.
	FindConnections(ctx context.Context) ([]*scorebridge.Connection, error)
	// FindConnectionByID returns a connection, the default when id is "".
	// Returns ENOTFOUND.
	FindConnectionByID(ctx context.Context, id string) (*scorebridge.Connection, error)
	// FindConnectionByClient returns the connection of an instance and
	// client id. Returns ENOTFOUND.
	FindConnectionByClient(ctx context.Context, instanceURL, clientID string) (*scorebridge.Connection, error)
	// FindConnectionSecrets returns a connection (the default when id is
	// "") with its secrets in clear. Returns ENOTFOUND.
	FindConnectionSecrets(ctx context.Context, id string) (*scorebridge.Connection, *scorebridge.ConnectionSecrets, error)

	// CreateConnection stores c as pending with its client secret; the
	// first connection becomes the default. Returns ECONFLICT when the
	// instance and client id are already connected.
	CreateConnection(ctx context.Context, c *scorebridge.Connection, clientSecret string, event *scorebridge.AuditEvent) error
	// UpdateClientSecret replaces the client secret and, when lifespan is
	// positive, the refresh token lifespan. Returns ENOTFOUND.
	UpdateClientSecret(ctx context.Context, id, clientSecret string, lifespan time.Duration, event *scorebridge.AuditEvent) error
	// SetDefaultConnection makes a connection the default. Returns
	// ENOTFOUND.
	SetDefaultConnection(ctx context.Context, id string, event *scorebridge.AuditEvent) error
	// DeleteConnection removes a connection with its secrets. Returns
	// ENOTFOUND.
	DeleteConnection(ctx context.Context, id string, event *scorebridge.AuditEvent) error

	// CreateAuthorization records an authorization in flight by its state,
	// the session binding that started it and its PKCE verifier, valid
	// until expires. Returns ENOTFOUND.
	CreateAuthorization(ctx context.Context, connectionID, state, binding, verifier string, expires time.Time) error
	// ConsumeAuthorization takes an authorization in flight by its state,
	// once. Returns EINVALID for an unknown, used or expired state.
	ConsumeAuthorization(ctx context.Context, state string) (scorebridge.AuthorizationInFlight, error)
	// SaveAuthorization stores the tokens of a completed authorization, the
	// integration user ("" keeps it) and the user the tokens act as, and
	// marks the connection connected. Returns ENOTFOUND.
	SaveAuthorization(ctx context.Context, id, integrationUser, authorizedAs string, tok scorebridge.ConnectionTokens, event *scorebridge.AuditEvent) (*scorebridge.Connection, error)
	// AcceptAuthorizedUser makes the authorized user the integration user.
	// Returns ENOTFOUND and ECONFLICT.
	AcceptAuthorizedUser(ctx context.Context, id string, event *scorebridge.AuditEvent) (*scorebridge.Connection, error)

	// SaveRefresh stores the tokens a refresh returned. Returns ENOTFOUND.
	SaveRefresh(ctx context.Context, id string, tok scorebridge.ConnectionTokens) error
	// RecordSuccess notes a call the instance answered. Returns ENOTFOUND.
	RecordSuccess(ctx context.Context, id string) error
	// RecordFailure sets a connection's status and last error. Returns
	// ENOTFOUND.
	RecordFailure(ctx context.Context, id, status, cause, message string) error
}
