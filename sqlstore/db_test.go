package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/internal/clocktest"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/sqlstore"
)

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
	if base := dbtest.PostgresURL(); base != "" {
		bs = append(bs, backend{name: sqlstore.DialectPostgres, dsn: func(t testing.TB) string {
			return dbtest.PostgresSchema(t, base, "test")
		}})
	}
	return bs
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

// openTest opens a fresh database with a clock the test controls.
func openTest(t testing.TB, b backend) (*sqlstore.DB, *clocktest.Clock) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), b.dsn(t))
	if err != nil {
		t.Fatalf("open %s: %v", b.name, err)
	}
	t.Cleanup(func() { db.Close() })
	clock := clocktest.New(time.Date(2026, 11, 25, 9, 30, 0, 123456000, time.UTC))
	db.Now = clock.Now
	return db, clock
}
