package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
)

// ConnectionStore keeps ServiceNow connections. The client secret, the
// tokens and the PKCE verifiers of authorizations in flight are sealed with
// the Box before they reach the database and opened only on the way out of
// FindConnectionSecrets and ConsumeAuthorization, so the database never
// holds them in clear.
type ConnectionStore struct {
	db  *DB
	box *secret.Box
}

// NewConnectionStore returns the connection store on db, sealing secrets
// with box.
func NewConnectionStore(db *DB, box *secret.Box) *ConnectionStore {
	return &ConnectionStore{db: db, box: box}
}

const connectionColumns = `id, instance_url, client_id, status, is_default, integration_user, authorized_as,
	access_token_expires_at, refresh_token_expires_at, refresh_token_lifespan, connected_since,
	last_success_at, last_error, last_error_cause, last_error_at, created_at, updated_at`

// purpose names what a sealed value is for, binding it to its row and column.
func sealPurpose(table, id, column string) string { return table + "/" + id + "/" + column }

// CreateConnection stores c (its ID set by the caller) as pending with its
// client secret sealed. The first connection becomes the default. Returns
// ECONFLICT when the instance and client id are already connected. The
// audit event, when not nil, is written in the same transaction.
func (s *ConnectionStore) CreateConnection(ctx context.Context, c *scorebridge.Connection, clientSecret string, event *scorebridge.AuditEvent) error {
	if c.ID == "" || c.InstanceURL == "" || c.ClientID == "" || clientSecret == "" {
		return scorebridge.Errorf(scorebridge.EINVALID, "A connection needs an id, an instance, a client id and a client secret.")
	}
	sealed, err := s.box.Seal(clientSecret, sealPurpose("connections", c.ID, "client_secret"))
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connections WHERE instance_url = ? AND client_id = ?`,
		c.InstanceURL, c.ClientID).Scan(&n); err != nil {
		return fmt.Errorf("check connection: %w", err)
	}
	if n > 0 {
		return scorebridge.Errorf(scorebridge.ECONFLICT, "%s is already connected with client id %s; authorize or remove that connection instead.", c.InstanceURL, c.ClientID)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connections WHERE is_default = ?`, true).Scan(&n); err != nil {
		return fmt.Errorf("check default connection: %w", err)
	}
	now := s.db.now()
	c.IsDefault = n == 0
	c.Status = scorebridge.ConnectionPending
	c.CreatedAt, c.UpdatedAt = now, now
	if c.RefreshTokenLifespan <= 0 {
		c.RefreshTokenLifespan = scorebridge.DefaultRefreshTokenLifespan
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO connections
		(id, instance_url, client_id, client_secret, status, is_default, integration_user, refresh_token_lifespan, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.InstanceURL, c.ClientID, sealed, c.Status, c.IsDefault, c.IntegrationUser,
		int64(c.RefreshTokenLifespan/time.Second), s.db.timeArg(now), s.db.timeArg(now)); err != nil {
		return fmt.Errorf("insert connection: %w", err)
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// FindConnections returns every connection, the default first, then by
// creation.
func (s *ConnectionStore) FindConnections(ctx context.Context) ([]*scorebridge.Connection, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+connectionColumns+` FROM connections ORDER BY is_default DESC, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return scanRows(rows, func(r rowScanner) (*scorebridge.Connection, error) { return scanConnection(r) })
}

// FindConnectionByID returns a connection, the default one when id is "".
// Returns ENOTFOUND.
//
// It is on the path of every call to an instance, so it reads with one
// statement outside a transaction: a single SELECT sees one consistent
// row anyway, and on SQLite a transaction would take the write lock
// (immediate mode) and cost ten times the read.
func (s *ConnectionStore) FindConnectionByID(ctx context.Context, id string) (*scorebridge.Connection, error) {
	c, _, err := findConnection(ctx, statement{s.db}, id)
	return c, err
}

// rowQuerier is a transaction or a single statement on the database.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// statement runs single read statements outside a transaction (on a read
// connection), with
// placeholders rebound like tx does.
type statement struct{ db *DB }

func (st statement) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return st.db.reader().QueryRowContext(ctx, st.db.rebind(query), args...)
}

// FindConnectionSecrets returns a connection (the default when id is "")
// with its secrets opened. Returns ENOTFOUND.
func (s *ConnectionStore) FindConnectionSecrets(ctx context.Context, id string) (*scorebridge.Connection, *scorebridge.ConnectionSecrets, error) {
	c, sealed, err := findConnection(ctx, statement{s.db}, id)
	if err != nil {
		return nil, nil, err
	}
	var out scorebridge.ConnectionSecrets
	for _, f := range []struct {
		column string
		in     string
		out    *string
	}{
		{"client_secret", sealed.ClientSecret, &out.ClientSecret},
		{"access_token", sealed.AccessToken, &out.AccessToken},
		{"refresh_token", sealed.RefreshToken, &out.RefreshToken},
	} {
		if *f.out, err = s.box.Open(f.in, sealPurpose("connections", c.ID, f.column)); err != nil {
			return nil, nil, fmt.Errorf("connection %s %s: %w", c.ID, f.column, err)
		}
	}
	return c, &out, nil
}

// findConnection reads one connection and its sealed secrets.
func findConnection(ctx context.Context, tx rowQuerier, id string) (*scorebridge.Connection, *scorebridge.ConnectionSecrets, error) {
	where, arg := `id = ?`, any(id)
	if id == "" {
		where, arg = `is_default = ?`, true
	}
	row := tx.QueryRowContext(ctx, `SELECT `+connectionColumns+`, client_secret, access_token, refresh_token
		FROM connections WHERE `+where, arg)
	var sealed scorebridge.ConnectionSecrets
	c, err := scanConnection(row, &sealed.ClientSecret, &sealed.AccessToken, &sealed.RefreshToken)
	if errors.Is(err, sql.ErrNoRows) {
		if id == "" {
			return nil, nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "No ServiceNow instance is connected yet.")
		}
		return nil, nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection %q not found.", id)
	} else if err != nil {
		return nil, nil, err
	}
	return c, &sealed, nil
}

func scanConnection(sc rowScanner, extra ...any) (*scorebridge.Connection, error) {
	var c scorebridge.Connection
	var lifespan int64
	dest := []any{&c.ID, &c.InstanceURL, &c.ClientID, &c.Status, &c.IsDefault, &c.IntegrationUser, &c.AuthorizedAs,
		optionalTime{&c.AccessTokenExpiresAt}, optionalTime{&c.RefreshTokenExpiresAt}, &lifespan, optionalTime{&c.ConnectedSince},
		optionalTime{&c.LastSuccessAt}, &c.LastError, &c.LastErrorCause, optionalTime{&c.LastErrorAt},
		scanTime{&c.CreatedAt}, scanTime{&c.UpdatedAt}}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("read connection: %w", err)
	}
	c.RefreshTokenLifespan = time.Duration(lifespan) * time.Second
	return &c, nil
}

// optionalTime reads a nullable timestamp column into a *time.Time.
type optionalTime struct{ t **time.Time }

func (n optionalTime) Scan(v any) error {
	if v == nil {
		*n.t = nil
		return nil
	}
	var t time.Time
	if err := (scanTime{&t}).Scan(v); err != nil {
		return err
	}
	*n.t = &t
	return nil
}

// optionalTimeArg is timeArg for a nullable column.
func (db *DB) optionalTimeArg(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return db.timeArg(*t)
}

// SaveAuthorization records a completed authorization: the integration
// user (kept as it was when integrationUser is ""), the user the tokens act
// as, fresh tokens (sealed), status connected and no error. Any other
// authorization in flight for the connection is dropped. The audit event,
// when not nil, is written in the same transaction. Returns ENOTFOUND.
func (s *ConnectionStore) SaveAuthorization(ctx context.Context, id, integrationUser, authorizedAs string, tok scorebridge.ConnectionTokens, event *scorebridge.AuditEvent) (*scorebridge.Connection, error) {
	access, refresh, err := s.sealTokens(id, tok)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.db.now()
	res, err := tx.ExecContext(ctx, `UPDATE connections SET status = ?,
		integration_user = CASE WHEN ? = '' THEN integration_user ELSE ? END, authorized_as = ?, access_token = ?, refresh_token = ?, access_token_expires_at = ?, refresh_token_expires_at = ?,
		connected_since = ?, last_success_at = ?, last_error = '', last_error_cause = '', last_error_at = NULL, updated_at = ?
		WHERE id = ?`,
		scorebridge.ConnectionConnected, integrationUser, integrationUser, authorizedAs, access, refresh,
		s.db.optionalTimeArg(&tok.AccessTokenExpiresAt), s.db.optionalTimeArg(&tok.RefreshTokenExpiresAt),
		s.db.timeArg(now), s.db.timeArg(now), s.db.timeArg(now), id)
	if err := connectionUpdated(res, err, id); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM connection_authorizations WHERE connection_id = ?`, id); err != nil {
		return nil, fmt.Errorf("drop authorizations in flight: %w", err)
	}
	c, _, err := findConnection(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return c, nil
}

// AcceptAuthorizedUser makes the user the tokens act as the connection's
// integration user, when an admin chose to keep an authorization made with
// another account than the expected one. The audit event is written in the
// same transaction. Returns ENOTFOUND, and ECONFLICT when the connection
// has no authorized user to accept.
func (s *ConnectionStore) AcceptAuthorizedUser(ctx context.Context, id string, event *scorebridge.AuditEvent) (*scorebridge.Connection, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, _, err := findConnection(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if c.AuthorizedAs == "" {
		return nil, scorebridge.Errorf(scorebridge.ECONFLICT, "The connection to %s has no authorized user to accept: authorize it first.", c.InstanceURL)
	}
	res, err := tx.ExecContext(ctx, `UPDATE connections SET integration_user = authorized_as, updated_at = ? WHERE id = ?`, s.db.timeArg(s.db.now()), c.ID)
	if err := connectionUpdated(res, err, c.ID); err != nil {
		return nil, err
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	c.IntegrationUser = c.AuthorizedAs
	return c, nil
}

// SaveRefresh stores the tokens a refresh returned and marks the connection
// connected. Returns ENOTFOUND.
func (s *ConnectionStore) SaveRefresh(ctx context.Context, id string, tok scorebridge.ConnectionTokens) error {
	access, refresh, err := s.sealTokens(id, tok)
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.now()
	res, err := tx.ExecContext(ctx, `UPDATE connections SET status = ?, access_token = ?, refresh_token = ?,
		access_token_expires_at = ?, refresh_token_expires_at = ?, last_success_at = ?,
		last_error = '', last_error_cause = '', last_error_at = NULL, updated_at = ?
		WHERE id = ?`,
		scorebridge.ConnectionConnected, access, refresh,
		s.db.optionalTimeArg(&tok.AccessTokenExpiresAt), s.db.optionalTimeArg(&tok.RefreshTokenExpiresAt),
		s.db.timeArg(now), s.db.timeArg(now), id)
	if err := connectionUpdated(res, err, id); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *ConnectionStore) sealTokens(id string, tok scorebridge.ConnectionTokens) (access, refresh string, err error) {
	if access, err = s.box.Seal(tok.AccessToken, sealPurpose("connections", id, "access_token")); err != nil {
		return "", "", err
	}
	if refresh, err = s.box.Seal(tok.RefreshToken, sealPurpose("connections", id, "refresh_token")); err != nil {
		return "", "", err
	}
	return access, refresh, nil
}

// RecordSuccess notes a call the instance answered, clearing an "error"
// status (but not "authorization_required", which only an authorization
// clears). Returns ENOTFOUND.
func (s *ConnectionStore) RecordSuccess(ctx context.Context, id string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.now()
	res, err := tx.ExecContext(ctx, `UPDATE connections SET last_success_at = ?,
		status = CASE WHEN status = ? THEN ? ELSE status END,
		last_error = CASE WHEN status = ? THEN '' ELSE last_error END,
		last_error_cause = CASE WHEN status = ? THEN '' ELSE last_error_cause END
		WHERE id = ?`,
		s.db.timeArg(now), scorebridge.ConnectionError, scorebridge.ConnectionConnected,
		scorebridge.ConnectionError, scorebridge.ConnectionError, id)
	if err := connectionUpdated(res, err, id); err != nil {
		return err
	}
	return tx.Commit()
}

// RecordFailure sets a connection's status and last error. With status
// "authorization_required" the tokens are dropped too: they no longer work,
// and keeping them would only keep secrets for nothing. Returns ENOTFOUND.
func (s *ConnectionStore) RecordFailure(ctx context.Context, id, status, cause, message string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.now()
	q := `UPDATE connections SET status = ?, last_error = ?, last_error_cause = ?, last_error_at = ?, updated_at = ?`
	if status == scorebridge.ConnectionAuthorizationRequired {
		q += `, access_token = '', refresh_token = '', access_token_expires_at = NULL`
	}
	res, err := tx.ExecContext(ctx, q+` WHERE id = ?`, status, message, cause, s.db.timeArg(now), s.db.timeArg(now), id)
	if err := connectionUpdated(res, err, id); err != nil {
		return err
	}
	return tx.Commit()
}

// UpdateClientSecret replaces a connection's client secret (the
// installation checklist rotates it when it runs again) and, when lifespan
// is positive, its refresh token lifespan. The audit event, when not nil,
// is written in the same transaction. Returns ENOTFOUND.
func (s *ConnectionStore) UpdateClientSecret(ctx context.Context, id, clientSecret string, lifespan time.Duration, event *scorebridge.AuditEvent) error {
	if clientSecret == "" {
		return scorebridge.FieldErrorf("clientSecret", "The client secret must not be empty.")
	}
	sealed, err := s.box.Seal(clientSecret, sealPurpose("connections", id, "client_secret"))
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE connections SET client_secret = ?,
		refresh_token_lifespan = CASE WHEN ? > 0 THEN ? ELSE refresh_token_lifespan END, updated_at = ? WHERE id = ?`,
		sealed, int64(lifespan/time.Second), int64(lifespan/time.Second), s.db.timeArg(s.db.now()), id)
	if err := connectionUpdated(res, err, id); err != nil {
		return err
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}

// FindConnectionByClient returns the connection of an instance and client
// id. Returns ENOTFOUND.
func (s *ConnectionStore) FindConnectionByClient(ctx context.Context, instanceURL, clientID string) (*scorebridge.Connection, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRowContext(ctx, `SELECT id FROM connections WHERE instance_url = ? AND client_id = ?`, instanceURL, clientID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "No connection to %s with client id %s.", instanceURL, clientID)
	} else if err != nil {
		return nil, fmt.Errorf("find connection: %w", err)
	}
	c, _, err := findConnection(ctx, tx, id)
	return c, err
}

// DeleteConnection removes a connection with its secrets and authorizations
// in flight. When it was the default, the oldest remaining connection
// becomes the default. The audit event, when not nil, is written in the
// same transaction. Returns ENOTFOUND.
func (s *ConnectionStore) DeleteConnection(ctx context.Context, id string, event *scorebridge.AuditEvent) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, _, err := findConnection(ctx, tx, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM connection_authorizations WHERE connection_id = ?`, c.ID); err != nil {
		return fmt.Errorf("delete authorizations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = ?`, c.ID); err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	if c.IsDefault {
		if _, err := tx.ExecContext(ctx, `UPDATE connections SET is_default = ? WHERE id = (
			SELECT id FROM connections ORDER BY created_at, id LIMIT 1)`, true); err != nil {
			return fmt.Errorf("choose a new default connection: %w", err)
		}
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SetDefaultConnection makes a connection the default. The audit event,
// when not nil, is written in the same transaction. Returns ENOTFOUND.
func (s *ConnectionStore) SetDefaultConnection(ctx context.Context, id string, event *scorebridge.AuditEvent) error {
	if id == "" {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection \"\" not found.")
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, _, err := findConnection(ctx, tx, id); err != nil {
		return err
	}
	// Clear first: the unique index allows one default at any moment.
	if _, err := tx.ExecContext(ctx, `UPDATE connections SET is_default = ? WHERE is_default = ? AND id <> ?`, false, true, id); err != nil {
		return fmt.Errorf("clear default connection: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE connections SET is_default = ? WHERE id = ?`, true, id); err != nil {
		return fmt.Errorf("set default connection: %w", err)
	}
	if err := auditInTx(ctx, tx, event); err != nil {
		return err
	}
	return tx.Commit()
}

// stateHash is how an OAuth state is kept: hashed, so reading the database
// does not let anyone complete an authorization in flight.
func stateHash(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// CreateAuthorization records an authorization in flight: its state (hashed),
// the session binding of whoever started it, and PKCE verifier (sealed),
// valid until expires. Expired ones are purged on
// the way. Returns ENOTFOUND when the connection does not exist.
func (s *ConnectionStore) CreateAuthorization(ctx context.Context, connectionID, state, binding, verifier string, expires time.Time) error {
	h := stateHash(state)
	sealed, err := s.box.Seal(verifier, sealPurpose("connection_authorizations", h, "code_verifier"))
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, _, err := findConnection(ctx, tx, connectionID); err != nil {
		return err
	}
	now := s.db.now()
	if _, err := tx.ExecContext(ctx, `DELETE FROM connection_authorizations WHERE expires_at < ?`, s.db.timeArg(now)); err != nil {
		return fmt.Errorf("purge expired authorizations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO connection_authorizations (state_hash, connection_id, session_binding, code_verifier, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, h, connectionID, binding, sealed, s.db.timeArg(expires), s.db.timeArg(now)); err != nil {
		return fmt.Errorf("insert authorization: %w", err)
	}
	return tx.Commit()
}

// ConsumeAuthorization takes an authorization in flight by its state and
// deletes it, so a state works once, and returns it with the session
// binding it was started with. Returns EINVALID for a state that is
// unknown, already used or expired.
func (s *ConnectionStore) ConsumeAuthorization(ctx context.Context, state string) (a scorebridge.AuthorizationInFlight, err error) {
	h := stateHash(state)
	tx, err := s.db.begin(ctx)
	if err != nil {
		return a, err
	}
	defer tx.Rollback()
	var sealed string
	var expires time.Time
	err = tx.QueryRowContext(ctx, `SELECT connection_id, session_binding, code_verifier, expires_at FROM connection_authorizations WHERE state_hash = ?`, h).
		Scan(&a.ConnectionID, &a.Binding, &sealed, scanTime{&expires})
	if errors.Is(err, sql.ErrNoRows) {
		return a, scorebridge.FieldErrorf("state", "This authorization answer does not match one the center started, or it was already used. Start the authorization again from the connection page.")
	} else if err != nil {
		return a, fmt.Errorf("read authorization: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM connection_authorizations WHERE state_hash = ?`, h); err != nil {
		return a, fmt.Errorf("delete authorization: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return a, fmt.Errorf("commit: %w", err)
	}
	if !s.db.now().Before(expires) {
		return scorebridge.AuthorizationInFlight{}, scorebridge.FieldErrorf("state", "This authorization took too long and expired. Start the authorization again from the connection page.")
	}
	if a.Verifier, err = s.box.Open(sealed, sealPurpose("connection_authorizations", h, "code_verifier")); err != nil {
		return scorebridge.AuthorizationInFlight{}, err
	}
	return a, nil
}

// connectionUpdated turns an UPDATE that matched no row into ENOTFOUND.
func connectionUpdated(res sql.Result, err error, id string) error {
	if err != nil {
		return fmt.Errorf("update connection: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update connection: %w", err)
	}
	if n == 0 {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "Connection %q not found.", id)
	}
	return nil
}
