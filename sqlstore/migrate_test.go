package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/sqlstore"
)

func TestOpen_NewerSchemaRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		ctx := context.Background()
		db, err := sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var known int
		if err := db.SQL.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&known); err != nil {
			t.Fatal(err)
		}
		if known < 1 {
			t.Fatalf("schema version after Open is %d", known)
		}
		db.Close()

		// Opening again applies nothing twice.
		db, err = sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		var rows, distinct int
		if err := db.SQL.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		if rows != distinct {
			t.Fatalf("schema_migrations holds %d rows for %d versions", rows, distinct)
		}
		// A newer scorebridge migrated this database further.
		newer := known + 2
		if _, err := db.SQL.Exec(fmt.Sprintf(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'from_the_future.sql', 'x')`, newer)); err != nil {
			t.Fatal(err)
		}
		db.Close()

		_, err = sqlstore.Open(ctx, dsn)
		want := fmt.Sprintf("database schema version %d is newer than this scorebridge knows (%d); upgrade scorebridge or use another database", newer, known)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("open newer database: %v\nwant %q", err, want)
		}
	})
}

func TestOpen_Settings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		if db.Dialect != b.name {
			t.Fatalf("dialect %q, want %q", db.Dialect, b.name)
		}
		switch db.Dialect {
		case sqlstore.DialectSQLite:
			if db.Pool != nil {
				t.Fatal("SQLite DB has a pgx pool")
			}
			if n := db.SQL.Stats().MaxOpenConnections; n != 1 {
				t.Fatalf("SQLite max open connections %d, want 1", n)
			}
			var mode string
			var fk, busy int
			if err := db.SQL.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Fatalf("journal_mode %q, %v", mode, err)
			}
			if err := db.SQL.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
				t.Fatalf("foreign_keys %d, %v", fk, err)
			}
			if err := db.SQL.QueryRow(`PRAGMA busy_timeout`).Scan(&busy); err != nil || busy <= 0 {
				t.Fatalf("busy_timeout %d, %v", busy, err)
			}
		case sqlstore.DialectPostgres:
			if db.Pool == nil {
				t.Fatal("PostgreSQL DB has no pgx pool")
			}
			if err := db.Pool.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A SQLite path is a path, whatever characters it holds.
func TestOpen_SQLitePathTakenLiterally(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "100% sure #1 é")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "score bridge%20.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at the path given: %v", err)
	}
}

func TestOpen_BadDSN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name, dsn string
		want      []string // substrings of the error
	}{
		{"empty", "  ", []string{"DSN is empty"}},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), []string{"open sqlite database", "x.db", "does not exist"}},
		{"query in path", "x.db?mode=ro", []string{"must not contain"}},
		{"bad URL", "postgres://root@127.0.0.1:notaport/test", []string{"open postgres database", "bad URL"}},
		{"bad URL with password", "postgres://root:s3cret@127.0.0.1:notaport/test", []string{"bad URL"}},
		{"unreachable", "postgres://root:s3cret@127.0.0.1:1/test?connect_timeout=2", []string{"open postgres database 127.0.0.1:1/test", "cannot connect"}},
	} {
		db, err := sqlstore.Open(ctx, tc.dsn)
		if err == nil {
			db.Close()
			t.Errorf("%s: Open(%q) succeeded", tc.name, tc.dsn)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the password: %v", tc.name, err)
		}
	}
}

// Replicas starting together against one empty database all come up, and
// each migration is applied once.
func TestOpen_ConcurrentStartUp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		const replicas = 3
		dbs := make(chan *sqlstore.DB, replicas)
		errs := make(chan error, replicas)
		for range replicas {
			go func() {
				db, err := sqlstore.Open(context.Background(), dsn)
				errs <- err
				dbs <- db
			}()
		}
		for range replicas {
			err := <-errs
			if db := <-dbs; db != nil {
				t.Cleanup(func() { db.Close() })
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
		}
		db, _ := openTest(t, backend{name: b.name, dsn: func(testing.TB) string { return dsn }})
		var rows, distinct int
		if err := db.SQL.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		if rows != distinct || rows == 0 {
			t.Fatalf("schema_migrations holds %d rows for %d versions", rows, distinct)
		}
	})
}
