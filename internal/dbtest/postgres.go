// Package dbtest gives each test a PostgreSQL database of its own: a fresh
// schema on the server named by SCOREBRIDGE_TEST_POSTGRES, dropped when the
// test ends, so the store and jobs suites run in parallel on one server.
package dbtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for creating test schemas
)

// PostgresEnv names the variable holding a PostgreSQL URL; when it is set,
// the suites run on PostgreSQL as well as SQLite.
const PostgresEnv = "SCOREBRIDGE_TEST_POSTGRES"

// PostgresURL returns the URL of PostgresEnv, "" when PostgreSQL tests are
// off.
func PostgresURL() string { return os.Getenv(PostgresEnv) }

var (
	adminMu sync.Mutex
	admins  = map[string]*sql.DB{} // by base URL, shared by every test
)

func admin(t testing.TB, base string) *sql.DB {
	adminMu.Lock()
	defer adminMu.Unlock()
	if db := admins[base]; db != nil {
		return db
	}
	db, err := sql.Open("pgx", base)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	admins[base] = db
	return db
}

// PostgresSchema creates a schema of the test's own (its name starts with
// prefix) on the PostgreSQL at base and returns base with search_path
// pointing at it; every table (River's too) lands there.
func PostgresSchema(t testing.TB, base, prefix string) string {
	t.Helper()
	db := admin(t, base)
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
