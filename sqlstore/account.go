package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/scorebridge/scorebridge"
	"golang.org/x/crypto/bcrypt"
)

// AccountStore keeps the accounts that can sign in. Local passwords are
// stored as bcrypt hashes only.
type AccountStore struct {
	db *DB
	// PasswordCost is the bcrypt cost of new hashes. Default 12: about a
	// quarter of a second, slow enough to make a stolen hash costly to
	// guess. Tests lower it.
	PasswordCost int
	// dummyHash is compared against when the name is unknown, so a wrong
	// name takes as long as a wrong password and names cannot be probed.
	dummyOnce sync.Once
	dummyHash []byte
}

var _ scorebridge.AccountService = (*AccountStore)(nil)

// DefaultPasswordCost is AccountStore.PasswordCost's default.
const DefaultPasswordCost = 12

// NewAccountStore returns the account store on db.
func NewAccountStore(db *DB) *AccountStore {
	return &AccountStore{db: db, PasswordCost: DefaultPasswordCost}
}

// newID returns a random identifier: 16 bytes in hex.
func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("sqlstore: the system random source failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func (s *AccountStore) hash(password string) (string, error) {
	cost := s.PasswordCost
	if cost == 0 {
		cost = DefaultPasswordCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CreateAccount stores a local account (ID, CreatedAt and Provider are set
// here) with its account.create audit event, in one transaction: the first
// account is recorded as made at first start. Returns EINVALID and
// ECONFLICT.
func (s *AccountStore) CreateAccount(ctx context.Context, a *scorebridge.Account, password string) error {
	if err := scorebridge.ValidateAccountName(a.Name); err != nil {
		return err
	}
	if err := scorebridge.ValidateRole("role", a.Role); err != nil {
		return err
	}
	if err := scorebridge.ValidatePasswordFor(password, a.Name); err != nil {
		return err
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if taken, err := accountNameTaken(ctx, tx, a.Name); err != nil {
		return err
	} else if taken {
		return scorebridge.Errorf(scorebridge.ECONFLICT, "An account named %q already exists.", a.Name)
	}
	var existing int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&existing); err != nil {
		return fmt.Errorf("count accounts: %w", err)
	}
	a.ID, a.Provider, a.CreatedAt = newID(), scorebridge.ProviderLocal, s.db.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, role, provider, password_hash, must_change_password, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Role, a.Provider, hash, a.MustChangePassword, s.db.timeArg(a.CreatedAt)); err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	detail := map[string]any{"name": a.Name, "role": a.Role}
	if u := scorebridge.UserFromContext(ctx); existing == 0 && u != nil && u.ID == "system" {
		detail["reason"] = "first start"
	}
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditAccountCreate, Target: a.ID, Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

func accountNameTaken(ctx context.Context, tx *tx, name string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE name = ?`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("check account name: %w", err)
	}
	return n > 0, nil
}

// CountAccounts returns the number of accounts.
func (s *AccountStore) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

const accountColumns = `id, name, role, provider, COALESCE(subject, ''), must_change_password, created_at, last_sign_in_at`

// accountColumnsOf is accountColumns qualified by a table alias, for joins.
func accountColumnsOf(alias string) string {
	return strings.NewReplacer("id,", alias+".id,", "name,", alias+".name,", "role,", alias+".role,", "provider,", alias+".provider,",
		"subject", alias+".subject", "must_change", alias+".must_change", "created_at", alias+".created_at", "last_sign", alias+".last_sign").Replace(accountColumns)
}

func scanAccount(sc rowScanner, extra ...any) (*scorebridge.Account, error) {
	var a scorebridge.Account
	dest := []any{&a.ID, &a.Name, &a.Role, &a.Provider, &a.Subject, &a.MustChangePassword,
		scanTime{&a.CreatedAt}, optionalTime{&a.LastSignInAt}}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("read account: %w", err)
	}
	return &a, nil
}

// FindAccountByID returns ENOTFOUND.
func (s *AccountStore) FindAccountByID(ctx context.Context, id string) (*scorebridge.Account, error) {
	a, err := scanAccount(s.db.reader().QueryRowContext(ctx, s.db.rebind(`SELECT `+accountColumns+` FROM accounts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "No such account.")
	}
	return a, err
}

// FindAccountByName returns ENOTFOUND.
func (s *AccountStore) FindAccountByName(ctx context.Context, name string) (*scorebridge.Account, error) {
	a, err := scanAccount(s.db.reader().QueryRowContext(ctx, s.db.rebind(`SELECT `+accountColumns+` FROM accounts WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "No account named %q.", name)
	}
	return a, err
}

// FindAccounts returns every account by name.
func (s *AccountStore) FindAccounts(ctx context.Context) ([]*scorebridge.Account, error) {
	rows, err := s.db.reader().QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find accounts: %w", err)
	}
	return scanRows(rows, func(r rowScanner) (*scorebridge.Account, error) { return scanAccount(r) })
}

// errBadCredentials is the one answer to a failed sign-in, whichever part
// was wrong.
var errBadCredentials = scorebridge.Errorf(scorebridge.EUNAUTHORIZED, "The name or the password is wrong.")

// Authenticate checks a local account's password. Returns EUNAUTHORIZED.
func (s *AccountStore) Authenticate(ctx context.Context, name, password string) (*scorebridge.Account, error) {
	var hash string
	a, err := scanAccount(s.db.reader().QueryRowContext(ctx,
		s.db.rebind(`SELECT `+accountColumns+`, password_hash FROM accounts WHERE name = ? AND provider = ?`), name, scorebridge.ProviderLocal), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		s.compareDummy(password)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, errBadCredentials
	}
	now := s.db.now()
	if _, err := s.db.SQL.ExecContext(ctx, s.db.rebind(`UPDATE accounts SET last_sign_in_at = ? WHERE id = ?`), s.db.timeArg(now), a.ID); err != nil {
		return nil, fmt.Errorf("record sign-in: %w", err)
	}
	a.LastSignInAt = &now
	return a, nil
}

func (s *AccountStore) compareDummy(password string) {
	s.dummyOnce.Do(func() {
		h, _ := s.hash("no account has this password")
		s.dummyHash = []byte(h)
	})
	bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
}

// ChangePassword replaces a local account's password after checking the
// current one, and records its password.change audit event in the same
// transaction. Returns EUNAUTHORIZED, EINVALID and ENOTFOUND.
func (s *AccountStore) ChangePassword(ctx context.Context, id, current, next string) error {
	if err := scorebridge.ValidatePassword(next); err != nil {
		return err
	}
	if current == next {
		return scorebridge.FieldErrorf("password", "The new password must differ from the current one.")
	}
	var hash string
	a, err := scanAccount(s.db.SQL.QueryRowContext(ctx,
		s.db.rebind(`SELECT `+accountColumns+`, password_hash FROM accounts WHERE id = ?`), id), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return scorebridge.Errorf(scorebridge.ENOTFOUND, "No such account.")
	} else if err != nil {
		return err
	}
	if a.Provider != scorebridge.ProviderLocal {
		return scorebridge.Errorf(scorebridge.EINVALID, "This account signs in with the identity provider; change the password there.")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil {
		return scorebridge.FieldErrorf("current", "The current password is wrong.")
	}
	if err := scorebridge.ValidatePasswordFor(next, a.Name); err != nil {
		return err
	}
	newHash, err := s.hash(next)
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ?, must_change_password = ? WHERE id = ?`,
		newHash, false, id); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditPasswordChange, Target: id, Detail: map[string]any{"name": a.Name}}); err != nil {
		return err
	}
	return tx.Commit()
}

// SignInOIDC finds or creates the account of an identity provider subject
// and takes its name and role from this sign-in. Returns EINVALID.
func (s *AccountStore) SignInOIDC(ctx context.Context, subject, name, role string) (*scorebridge.Account, error) {
	if subject == "" {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "The identity provider gave no subject.")
	}
	if err := scorebridge.ValidateAccountName(name); err != nil {
		return nil, err
	}
	if err := scorebridge.ValidateRole("role", role); err != nil {
		return nil, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.db.now()
	a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE subject = ?`, subject))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A local account keeps its name: the identity provider's user
		// gets a qualified one rather than taking it over.
		if taken, err := accountNameTaken(ctx, tx, name); err != nil {
			return nil, err
		} else if taken {
			name = name + " (sso)"
			if taken, err := accountNameTaken(ctx, tx, name); err != nil {
				return nil, err
			} else if taken {
				return nil, scorebridge.Errorf(scorebridge.ECONFLICT, "An account named %q already exists.", name)
			}
		}
		a = &scorebridge.Account{ID: newID(), Name: name, Role: role, Provider: scorebridge.ProviderOIDC, Subject: subject, CreatedAt: now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, role, provider, subject, created_at, last_sign_in_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Name, a.Role, a.Provider, a.Subject, s.db.timeArg(now), s.db.timeArg(now)); err != nil {
			return nil, fmt.Errorf("insert account: %w", err)
		}
	case err != nil:
		return nil, err
	default:
		if a.Name != name {
			if taken, err := accountNameTaken(ctx, tx, name); err != nil {
				return nil, err
			} else if !taken {
				a.Name = name
			}
		}
		a.Role = role
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET name = ?, role = ?, last_sign_in_at = ? WHERE id = ?`,
			a.Name, a.Role, s.db.timeArg(now), a.ID); err != nil {
			return nil, fmt.Errorf("update account: %w", err)
		}
	}
	a.LastSignInAt = &now
	return a, tx.Commit()
}

// ResetPassword gives a local account a new password that must be changed
// at the next sign-in, for an admin who lost theirs, and records its
// password.change audit event (reason "reset") in the same transaction.
// Returns ENOTFOUND and EINVALID.
func (s *AccountStore) ResetPassword(ctx context.Context, name, password string) (*scorebridge.Account, error) {
	if err := scorebridge.ValidatePasswordFor(password, name); err != nil {
		return nil, err
	}
	hash, err := s.hash(password)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ? AND provider = ?`, name, scorebridge.ProviderLocal))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "No local account named %q.", name)
	} else if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ?, must_change_password = ? WHERE id = ?`, hash, true, a.ID); err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	// Whoever held a session of the account is signed out.
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, a.ID); err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	a.MustChangePassword = true
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditPasswordChange, Target: a.ID, Detail: map[string]any{"name": a.Name, "reason": "reset"}}); err != nil {
		return nil, err
	}
	return a, tx.Commit()
}
