package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// The read connections keep their statements: the same query run a hundred
// times is prepared at most once per read connection; a query run inside
// the loop of the same query (one statement cannot read two result sets at
// once) gets its own; and a statement kept from before a change of the
// schema answers for the schema as it is now.
func TestReadStatementsKept(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "kept.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE kept (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO kept (n) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	const query = `SELECT n FROM kept WHERE n >= ? ORDER BY n`
	read := func(tx *tx, from int) []int {
		t.Helper()
		rows, err := tx.QueryContext(ctx, query, from)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	before := stmtPrepares.Load()
	for i := range 100 {
		tx, err := db.beginRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(read(tx, i%3)); got != fmt.Sprint([]int{0, 1, 2}[i%3:]) {
			t.Fatalf("run %d: %s", i, got)
		}
		tx.Rollback()
	}
	if n := stmtPrepares.Load() - before; n < 1 || n > int64(sqliteReaders()) {
		t.Errorf("100 runs of one query prepared it %d times, want 1 to %d (once per read connection)", n, sqliteReaders())
	}

	// The same query inside its own loop.
	tx, err := db.beginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, query, 0)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, fmt.Sprint(n, read(tx, n)))
	}
	rows.Close()
	tx.Rollback()
	if got, want := fmt.Sprint(pairs), "[0 [0 1 2] 1 [1 2] 2 [2]]"; got != want {
		t.Errorf("nested runs of one query: %s, want %s", got, want)
	}

	// A column renamed after the statements were kept.
	if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE kept RENAME COLUMN n TO m`); err != nil {
		t.Fatal(err)
	}
	tx, err = db.beginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.QueryContext(ctx, query, 0); err == nil {
		t.Error("a kept statement ran against a column renamed since; want the error a fresh one gets")
	}
}
