package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds each dialect's migrations, named NNNN_what.sql. Both
// dialects carry the same numbers so a version means the same schema on each.
// A new migration takes a number above every existing one: a database only
// records how far it got, so a number slotted in below would never run.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns a dialect's migrations in order.
func migrations(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s migrations: %w", dialect, err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must start with a positive number and '_'", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date, one transaction per migration, and
// refuses a database that a newer scorebridge has already migrated further.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations(db.Dialect)
	if err != nil {
		return err
	}
	return db.apply(ctx, ms)
}

// apply runs the migrations of ms that the database has not recorded, in
// order of version.
func (db *DB) apply(ctx context.Context, ms []migration) error {
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	// The first pass only creates the bookkeeping table and reads the
	// version, so a too-new database is refused before anything changes.
	current, err := db.migrateStep(ctx, nil)
	if err != nil {
		return err
	}
	if current > known {
		return fmt.Errorf("database schema version %d is newer than this scorebridge knows (%d); upgrade scorebridge or use another database", current, known)
	}
	// Every migration not applied yet runs, also one numbered below the
	// highest applied: migrations written side by side land in any order.
	for _, m := range ms {
		if _, err := db.migrateStep(ctx, &m); err != nil {
			return err
		}
	}
	return nil
}

// migrateStep runs m (when given and not recorded as applied) in a transaction of
// its own and returns the schema version found before it. On PostgreSQL an
// advisory lock makes replicas starting together take turns.
func (db *DB) migrateStep(ctx context.Context, m *migration) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()

	if db.Dialect == DialectPostgres {
		// Keyed by schema so databases sharing a server do not wait on each other.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.scorebridge_migrations'))`); err != nil {
			return 0, fmt.Errorf("migrate: take lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	applied := true
	if m != nil {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version).Scan(&applied); err != nil {
			return 0, fmt.Errorf("migrate: read %s: %w", m.name, err)
		}
	}
	if !applied {
		// Run verbatim: a migration is several statements and is not rebound.
		if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
			return 0, fmt.Errorf("migrate: apply %s/%s: %w", db.Dialect, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, db.now().Format(sqliteTimeFormat)); err != nil {
			return 0, fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return current, nil
}
