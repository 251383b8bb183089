package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestBackupSQLite copies a database while it is open and in the middle of
// a write transaction: the copy opens, holds what was committed and not the
// write in progress, and keeps the kept score consistent.
func TestBackupSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "scorebridge.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs := sqlstore.NewRecommendationService(db)
	mustCreate(t, recs, asUser("alice"), newRec("mfa"))

	ctx := context.Background()
	w, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	if _, err := w.ExecContext(ctx, `DELETE FROM recommendations`); err != nil {
		t.Fatal(err)
	}

	dest := filepath.Join(dir, "copy.db")
	if err := sqlstore.BackupSQLite(ctx, path, dest); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("copy: %v, %v; want a file for its owner only", fi, err)
	}
	if err := sqlstore.BackupSQLite(ctx, path, dest); err == nil {
		t.Fatal("a second backup overwrote the first")
	}

	cp, err := sqlstore.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if _, err := sqlstore.NewRecommendationService(cp).FindRecommendationByID(ctx, "mfa"); err != nil {
		t.Fatalf("the copy lacks the committed action: %v", err)
	}
	if err := cp.VerifyScoreTotals(ctx); err != nil {
		t.Fatal(err)
	}
}
