package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// APITokenStore keeps API tokens by the SHA-256 of their secret; the secret
// itself exists only in the answer to CreateAPIToken.
type APITokenStore struct {
	db   *DB
	kept keptTokens
}

var _ scorebridge.APITokenService = (*APITokenStore)(nil)

// NewAPITokenStore returns the API token store on db.
func NewAPITokenStore(db *DB) *APITokenStore { return &APITokenStore{db: db} }

// tokenHintLength is how much of the secret (after the prefix) a list shows.
const tokenHintLength = 6

// CreateAPIToken stores a new token and returns its secret. CreatedBy
// defaults to the acting user. The token.create audit event is written in
// the same transaction, so no caller can make a token unrecorded. Returns
// EINVALID.
func (s *APITokenStore) CreateAPIToken(ctx context.Context, t *scorebridge.APIToken) (string, error) {
	now := s.db.now()
	if err := t.Validate(now); err != nil {
		return "", err
	}
	secret := scorebridge.APITokenPrefix + newSecret()
	t.ID = newID()
	t.Hint = secret[:len(scorebridge.APITokenPrefix)+tokenHintLength] + "…"
	t.CreatedAt = now
	t.LastUsedAt, t.RevokedAt = nil, nil
	if t.ExpiresAt != nil {
		e := t.ExpiresAt.UTC().Truncate(0)
		t.ExpiresAt = &e
	}
	if t.CreatedBy == "" {
		t.CreatedBy = scorebridge.ActorFromContext(ctx)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, role, token_hash, hint, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Role, secretHash(secret), t.Hint, t.CreatedBy, s.db.timeArg(now), s.db.optionalTimeArg(t.ExpiresAt)); err != nil {
		return "", fmt.Errorf("insert api token: %w", err)
	}
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditTokenCreate, Target: t.ID,
		Detail: map[string]any{"name": t.Name, "role": t.Role}}); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return secret, nil
}

const apiTokenColumns = `id, name, role, hint, created_by, created_at, expires_at, last_used_at, revoked_at`

func scanAPIToken(sc rowScanner) (*scorebridge.APIToken, error) {
	var t scorebridge.APIToken
	if err := sc.Scan(&t.ID, &t.Name, &t.Role, &t.Hint, &t.CreatedBy, scanTime{&t.CreatedAt},
		optionalTime{&t.ExpiresAt}, optionalTime{&t.LastUsedAt}, optionalTime{&t.RevokedAt}); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("read api token: %w", err)
	}
	return &t, nil
}

// FindAPITokens returns every token, newest first.
func (s *APITokenStore) FindAPITokens(ctx context.Context) ([]*scorebridge.APIToken, error) {
	rows, err := s.db.reader().QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("find api tokens: %w", err)
	}
	return scanRows(rows, scanAPIToken)
}

// RevokeAPIToken stops a token. Revoking twice keeps the first time. The
// token.revoke audit event is written in the same transaction, so the page,
// the API and the command (and any caller to come) record it the same way.
// Returns ENOTFOUND.
func (s *APITokenStore) RevokeAPIToken(ctx context.Context, id string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
		s.db.timeArg(s.db.now()), id)
	if err != nil {
		return fmt.Errorf("revoke api token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke api token: %w", err)
	} else if n == 0 {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "No API token with id %q.", id)
	}
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditTokenRevoke, Target: id}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// errBadToken answers every token that does not authenticate, whatever the
// reason, so a caller learns nothing about which tokens exist.
var errBadToken = scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The API token is unknown, expired or revoked.")

// AuthenticateAPIToken returns the token of a secret and records its use.
// The returned LastUsedAt is the use before this one, so a caller can tell
// a token's first use in a while. Returns EUNAUTHORIZED.
func (s *APITokenStore) AuthenticateAPIToken(ctx context.Context, secret string) (*scorebridge.APIToken, error) {
	if !strings.HasPrefix(secret, scorebridge.APITokenPrefix) {
		return nil, errBadToken
	}
	hash := secretHash(secret)
	now := s.db.now()
	version, live := s.db.Version()
	if live {
		// A token kept under the current change count is the row as it
		// is; only its use needs writing now and then.
		if t, ok := s.kept.get(hash, version, now); ok && t.Active(now) && t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < sessionTouchEvery {
			return t, nil
		}
	}
	t, err := scanAPIToken(s.db.reader().QueryRowContext(ctx, s.db.rebind(`SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadToken
	} else if err != nil {
		return nil, err
	}
	if !t.Active(now) {
		return nil, errBadToken
	}
	kept := *t
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= sessionTouchEvery {
		if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), s.db.timeArg(now), t.ID); err != nil {
			return nil, fmt.Errorf("record api token use: %w", err)
		}
		kept.LastUsedAt = &now // what the row now holds
	}
	if live {
		s.kept.put(hash, version, now, &kept)
	}
	return t, nil
}
