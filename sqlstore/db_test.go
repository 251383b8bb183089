package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for creating test schemas
	"github.com/scorebridge/scorebridge/sqlstore"
)

// postgresEnv names the variable holding a PostgreSQL URL; when it is set,
// every conformance test runs on PostgreSQL as well as SQLite.
const postgresEnv = "SCOREBRIDGE_TEST_POSTGRES"

// backend opens a fresh, empty database of one dialect.
type backend struct {
	name string
	// dsn returns a DSN naming a database nobody else uses; it is dropped
	// when the test ends.
	dsn func(t testing.TB) string
}

// backends lists the databases the conformance suite runs on.
func backends() []backend {
	bs := []backend{{name: sqlstore.DialectSQLite, dsn: func(t testing.TB) string {
		return filepath.Join(t.TempDir(), "scorebridge.db")
	}}}
	if base := os.Getenv(postgresEnv); base != "" {
		bs = append(bs, backend{name: sqlstore.DialectPostgres, dsn: func(t testing.TB) string {
			return postgresSchemaDSN(t, base)
		}})
	}
	return bs
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
)

// postgresSchemaDSN creates a schema of its own for the test and returns the
// base URL with search_path pointing at it, so tests can run in parallel.
func postgresSchemaDSN(t testing.TB, base string) string {
	t.Helper()
	adminOnce.Do(func() {
		adminDB, adminErr = sql.Open("pgx", base)
		if adminErr == nil {
			adminErr = adminDB.Ping()
		}
	})
	if adminErr != nil {
		t.Fatalf("connect to %s: %v", postgresEnv, adminErr)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := adminDB.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := adminDB.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// forEachBackend runs f as a parallel subtest on every back end.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// testClock is a settable clock for DB.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTest opens a fresh database with a clock the test controls.
func openTest(t testing.TB, b backend) (*sqlstore.DB, *testClock) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), b.dsn(t))
	if err != nil {
		t.Fatalf("open %s: %v", b.name, err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &testClock{now: time.Date(2026, 11, 25, 9, 30, 0, 123456000, time.UTC)}
	db.Now = clock.Now
	return db, clock
}
