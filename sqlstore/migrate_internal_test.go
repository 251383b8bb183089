package sqlstore

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
)

// Both dialects must carry the same migration numbers, so a schema version
// means the same tables on each.
func TestMigrations_SameNumbersOnBothDialects(t *testing.T) {
	versions := func(dialect string) []int {
		ms, err := migrations(dialect)
		if err != nil {
			t.Fatal(err)
		}
		var vs []int
		for _, m := range ms {
			vs = append(vs, m.version)
		}
		return vs
	}
	sqlite, postgres := versions(DialectSQLite), versions(DialectPostgres)
	if len(sqlite) == 0 || !reflect.DeepEqual(sqlite, postgres) {
		t.Fatalf("sqlite migrations %v, postgres %v", sqlite, postgres)
	}
}

// Migrations written side by side can land out of order: a database that
// already has 0001 and 0003 must still get 0002 when it arrives, not skip it
// because it is below the highest applied.
func TestMigrations_LowerVersionLandingLaterIsApplied(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := func(v int, table string) migration {
		return migration{version: 900000 + v, name: table, sql: "CREATE TABLE " + table + " (id INTEGER)"}
	}
	if err := db.apply(ctx, []migration{m(1, "first_t"), m(3, "third_t")}); err != nil {
		t.Fatal(err)
	}
	if err := db.apply(ctx, []migration{m(1, "first_t"), m(2, "second_t"), m(3, "third_t")}); err != nil {
		t.Fatalf("second run: %v", err)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM second_t`).Scan(&n); err != nil {
		t.Fatalf("the late migration was not applied: %v", err)
	}
	var recorded int
	if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version >= 900000`).Scan(&recorded); err != nil || recorded != 3 {
		t.Fatalf("recorded %d synthetic migrations (%v), want 3", recorded, err)
	}
}
