package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

func newBox(t *testing.T) *secret.Box {
	t.Helper()
	key, _ := secret.ParseKey(secret.NewKey())
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// TestRotateSecrets re-seals every stored secret with a new key: the
// connections work with the new key only, and no value sealed with the old
// key is left in any column of any table.
func TestRotateSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, clock := openTest(t, b)
		oldBox, newBox := newBox(t), newBox(t)
		s := sqlstore.NewConnectionStore(db, oldBox)
		mustCreateConnection(t, s, "a", "https://a.service-now.com")
		mustCreateConnection(t, s, "b", "https://b.service-now.com")
		if _, err := s.SaveAuthorization(ctx, "a", "integration", "integration", scorebridge.ConnectionTokens{AccessToken: testAccessToken, RefreshToken: testRefreshToken,
			AccessTokenExpiresAt: clock.Now().Add(time.Hour), RefreshTokenExpiresAt: clock.Now().Add(100 * time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAuthorization(ctx, "b", "state-1", "", testVerifier, clock.Now().Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}

		// The wrong "current" key changes nothing.
		if _, err := sqlstore.RotateSecrets(ctx, db, newBox, oldBox); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("rotation from a wrong key: %v", err)
		}
		if _, sec, err := s.FindConnectionSecrets(ctx, "a"); err != nil || sec.AccessToken != testAccessToken {
			t.Fatalf("a refused rotation changed secrets: %+v, %v", sec, err)
		}

		n, err := sqlstore.RotateSecrets(ctx, db, oldBox, newBox)
		if err != nil || n != 5 {
			t.Fatalf("RotateSecrets = %d, %v; want 5 values (2 client secrets, 2 tokens, 1 verifier)", n, err)
		}
		rotated := sqlstore.NewConnectionStore(db, newBox)
		_, sec, err := rotated.FindConnectionSecrets(ctx, "a")
		if err != nil || sec.ClientSecret != testClientSecret || sec.AccessToken != testAccessToken || sec.RefreshToken != testRefreshToken {
			t.Fatalf("after rotation: %+v, %v", sec, err)
		}
		if a, err := rotated.ConsumeAuthorization(ctx, "state-1"); err != nil || a.ConnectionID != "b" || a.Verifier != testVerifier {
			t.Fatalf("authorization in flight after rotation: %+v %v", a, err)
		}
		if _, _, err := s.FindConnectionSecrets(ctx, "a"); err == nil {
			t.Fatal("the old key still opens the secrets")
		}
		scanForSealed(t, db)
	})
}

// scanForSealed fails when a column the rotation does not know holds a
// sealed value: a new sealed column missing from the rotation list shows up
// here instead of being lost at the next rotation.
func scanForSealed(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect == sqlstore.DialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := db.SQL.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	for _, table := range tables {
		rows, err := db.SQL.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				continue // a column that is not text
			}
			for i, v := range vals {
				if strings.HasPrefix(v.String, "v1.") && len(v.String) > 20 && table != "schema_migrations" {
					if !rotatedColumn(table, cols[i]) {
						t.Errorf("%s.%s holds a sealed value the rotation does not re-seal", table, cols[i])
					}
				}
			}
		}
		rows.Close()
	}
}

func rotatedColumn(table, column string) bool {
	switch table + "." + column {
	case "connections.client_secret", "connections.access_token", "connections.refresh_token", "connection_authorizations.code_verifier":
		return true
	}
	return false
}
