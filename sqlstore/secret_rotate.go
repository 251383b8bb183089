package sqlstore

import (
	"context"
	"fmt"

	"github.com/scorebridge/scorebridge/secret"
)

// sealedColumn is a column holding values sealed by package secret: its
// table, the column naming the row in the seal's purpose, and the column.
type sealedColumn struct {
	table, key, column string
}

// sealedColumns lists every column that holds a sealed value. A new sealed
// column must be added here, or rotating the key would make it unreadable;
// TestRotateSecrets checks that no sealed value is left behind.
var sealedColumns = []sealedColumn{
	{"connections", "id", "client_secret"},
	{"connections", "id", "access_token"},
	{"connections", "id", "refresh_token"},
	{"connection_authorizations", "state_hash", "code_verifier"},
	{"posture_sources", "id", "client_secret"},
	{"notification_targets", "id", "smtp_password"},
	{"notification_targets", "id", "webhook_url"},
	{"notification_targets", "id", "webhook_secret"},
}

// RotateSecrets re-seals every stored secret from one key to another in a
// single transaction: either every value opens with the new key afterwards
// or nothing changed. It returns how many values were re-sealed. A value
// that does not open with the old key stops the rotation (with nothing
// changed), since it would be lost.
func RotateSecrets(ctx context.Context, db *DB, from, to *secret.Box) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n := 0
	for _, c := range sealedColumns {
		type row struct{ key, sealed string }
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s <> ''`, c.key, c.column, c.table, c.column))
		if err != nil {
			return 0, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
		}
		var found []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.sealed); err != nil {
				rows.Close()
				return 0, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
			}
			found = append(found, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		for _, r := range found {
			purpose := sealPurpose(c.table, r.key, c.column)
			plain, err := from.Open(r.sealed, purpose)
			if err != nil {
				return 0, fmt.Errorf("%s.%s of %s does not open with the current key (%s); nothing was changed: %w", c.table, c.column, r.key, from.KeyID(), err)
			}
			resealed, err := to.Seal(plain, purpose)
			if err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = ? WHERE %s = ?`, c.table, c.column, c.key), resealed, r.key); err != nil {
				return 0, fmt.Errorf("write %s.%s: %w", c.table, c.column, err)
			}
			n++
		}
	}
	return n, tx.Commit()
}
