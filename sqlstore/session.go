package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
)

// sessionTouchEvery limits writes: the idle deadline moves at most once a
// minute, not on every request; see touchEvery.
const sessionTouchEvery = time.Minute

// touchEvery is how stale last_seen_at may grow before a request writes
// it: a minute, or a tenth of the idle timeout when that is shorter, so a
// session in use never times out for want of a write.
func touchEvery(idle time.Duration) time.Duration {
	return min(sessionTouchEvery, idle/10)
}

// SessionStore keeps browser sessions. The token in the cookie is never
// stored; its SHA-256 is the key.
type SessionStore struct {
	db *DB
	// Idle and Absolute are the session lifetimes; zero means
	// scorebridge.DefaultSessionIdle and DefaultSessionAbsolute.
	Idle, Absolute time.Duration
}

var _ scorebridge.SessionService = (*SessionStore)(nil)

// NewSessionStore returns the session store on db with the default
// lifetimes.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{db: db, Idle: scorebridge.DefaultSessionIdle, Absolute: scorebridge.DefaultSessionAbsolute}
}

func (s *SessionStore) lifetimes() (idle, absolute time.Duration) {
	idle, absolute = s.Idle, s.Absolute
	if idle <= 0 {
		idle = scorebridge.DefaultSessionIdle
	}
	if absolute <= 0 {
		absolute = scorebridge.DefaultSessionAbsolute
	}
	return idle, absolute
}

// secretHash is the stored form of a session or API token: SHA-256 in hex.
// The tokens carry 256 random bits, so a fast hash is enough.
func secretHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newSecret returns 32 random bytes, base64url encoded.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("sqlstore: the system random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session and returns its token. Expired sessions
// are swept at the same time, so the table does not grow without end.
func (s *SessionStore) CreateSession(ctx context.Context, accountID string) (string, error) {
	_, absolute := s.lifetimes()
	token := newSecret()
	now := s.db.now()
	tx, err := s.db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if err := s.sweep(ctx, tx, now); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, secretHash(token), accountID, s.db.timeArg(now), s.db.timeArg(now), s.db.timeArg(now.Add(absolute))); err != nil {
		return "", fmt.Errorf("insert session: %w", err)
	}
	return token, tx.Commit()
}

func (s *SessionStore) sweep(ctx context.Context, tx *tx, now time.Time) error {
	idle, _ := s.lifetimes()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
		s.db.timeArg(now), s.db.timeArg(now.Add(-idle))); err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	return nil
}

// errNoSession is the answer for any token that does not open a session.
var errNoSession = scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "Your session has ended; sign in again.")

// FindSession returns a live session and its account. Returns
// EUNAUTHORIZED.
func (s *SessionStore) FindSession(ctx context.Context, token string) (*scorebridge.Session, *scorebridge.Account, error) {
	if token == "" {
		return nil, nil, errNoSession
	}
	idle, _ := s.lifetimes()
	h := secretHash(token)
	var sess scorebridge.Session
	a, err := scanAccount(s.db.reader().QueryRowContext(ctx, s.db.rebind(`SELECT `+accountColumnsOf("a")+`,
		s.account_id, s.created_at, s.last_seen_at, s.expires_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`), h),
		&sess.AccountID, scanTime{&sess.CreatedAt}, scanTime{&sess.LastSeenAt}, scanTime{&sess.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errNoSession
	} else if err != nil {
		return nil, nil, err
	}
	now := s.db.now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) {
		s.db.SQL.ExecContext(ctx, s.db.rebind(`DELETE FROM sessions WHERE token_hash = ?`), h)
		return nil, nil, errNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery(idle) {
		if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`), s.db.timeArg(now), h); err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return &sess, a, nil
}

// DeleteSession ends a session.
func (s *SessionStore) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`DELETE FROM sessions WHERE token_hash = ?`), secretHash(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteAccountSessions ends every session of an account.
func (s *SessionStore) DeleteAccountSessions(ctx context.Context, accountID string) error {
	if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`DELETE FROM sessions WHERE account_id = ?`), accountID); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}
