package sqlstore_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// openHealthDB opens a fresh SQLite database holding one action.
func openHealthDB(t *testing.T) (*sqlstore.DB, scorebridge.RecommendationService, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scorebridge.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	recs := sqlstore.NewRecommendationService(db)
	mustCreate(t, recs, asUser("alice"), newRec("first"))
	return db, recs, path
}

func countRecs(t *testing.T, db *sqlstore.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM recommendations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantUnwritable checks a refused write: EUNAVAILABLE, saying the database
// cannot be written and why, and the same problem recorded for the probe
// and the pages.
func wantUnwritable(t *testing.T, db *sqlstore.DB, err error, cause, why string) {
	t.Helper()
	if scorebridge.ErrorCode(err) != scorebridge.EUNAVAILABLE {
		t.Fatalf("write: %v, want EUNAVAILABLE", err)
	}
	if msg := scorebridge.ErrorMessage(err); !strings.HasPrefix(msg, "The database cannot be written: ") || !strings.Contains(msg, why) {
		t.Fatalf("message %q, want it to say the database cannot be written because %q", msg, why)
	}
	p := db.WriteProblem()
	if p == nil || p.Cause != cause || !strings.Contains(p.Message, why) {
		t.Fatalf("write problem %+v, want cause %s", p, cause)
	}
}

// A full disk (a SQLite page limit here) refuses a bulk write as a whole,
// says so, and is reported until a write succeeds again.
func TestHealth_DiskFull(t *testing.T) {
	t.Parallel()
	db, recs, _ := openHealthDB(t)
	var pages int
	if err := db.SQL.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The one writer connection: no page beyond those in use.
	if _, err := db.SQL.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	before := countRecs(t, db)
	var bulk []*scorebridge.Recommendation
	for i := range 200 {
		r := newRec(fmt.Sprintf("bulk-%03d", i))
		r.Description = strings.Repeat("Long enough to need new pages. ", 40)
		bulk = append(bulk, r)
	}
	_, err := recs.SeedRecommendations(asUser("alice"), bulk)
	wantUnwritable(t, db, err, sqlstore.CauseDiskFull, "is full")
	if after := countRecs(t, db); after != before {
		t.Fatalf("%d actions after the refused bulk write, want the %d before: half of it was written", after, before)
	}

	// Space again: the next write goes through and the problem is gone.
	if _, err := db.SQL.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, recs, asUser("alice"), newRec("after"))
	if p := db.WriteProblem(); p != nil {
		t.Fatalf("write problem %+v after a write succeeded", p)
	}
}

// A database that refuses writes as read-only says so. (The tests may run
// as root, who writes any file whatever its mode, so the writer connection
// is made read-only with query_only: SQLite answers SQLITE_READONLY, as
// for a read-only file or file system.)
func TestHealth_ReadOnly(t *testing.T) {
	t.Parallel()
	db, recs, _ := openHealthDB(t)
	if _, err := db.SQL.Exec(`PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	err := recs.CreateRecommendation(asUser("alice"), newRec("refused"))
	wantUnwritable(t, db, err, sqlstore.CauseReadOnly, "read-only")
	if _, err := db.SQL.Exec(`PRAGMA query_only = 0`); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, recs, asUser("alice"), newRec("after"))
	if p := db.WriteProblem(); p != nil {
		t.Fatalf("write problem %+v after a write succeeded", p)
	}
}

// The file removed under a running center: every write is refused, saying
// why, and nothing creates a new empty file in its place; the problem
// lasts (no write can mend it).
func TestHealth_FileRemoved(t *testing.T) {
	t.Parallel()
	db, recs, path := openHealthDB(t)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	err := recs.CreateRecommendation(asUser("alice"), newRec("lost"))
	wantUnwritable(t, db, err, sqlstore.CauseFileRemoved, "removed")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a file is at %s again after a refused write: %v", path, err)
	}
	if err := recs.CreateRecommendation(asUser("alice"), newRec("lost-again")); scorebridge.ErrorCode(err) != scorebridge.EUNAVAILABLE {
		t.Fatalf("second write: %v, want it refused too", err)
	}
	// Pages still read what the center had, and reading makes no file
	// either, however many readers at once.
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			list, _, err := recs.FindRecommendations(asUser("alice"), scorebridge.RecommendationFilter{})
			if err == nil && (len(list) != 1 || list[0].ID != "first") {
				err = fmt.Errorf("read %d actions, want the one stored", len(list))
			}
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a file is at %s again after reads: %v", path, err)
	}
}

// Another file put in its place (a restore over a running center) is not
// written to either.
func TestHealth_FileReplaced(t *testing.T) {
	t.Parallel()
	db, recs, path := openHealthDB(t)
	other := filepath.Join(t.TempDir(), "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	err := recs.CreateRecommendation(asUser("alice"), newRec("elsewhere"))
	wantUnwritable(t, db, err, sqlstore.CauseFileReplaced, "no longer the one")
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("the file put in place was written to: %v, %v", fi, err)
	}
}

// A PostgreSQL server that takes no writes (a standby; here transactions
// read-only by default) is refused at start, saying so, like a write to a
// read-only SQLite file.
func TestHealth_PostgresReadOnly(t *testing.T) {
	base := dbtest.PostgresURL()
	if base == "" {
		t.Skip("SCOREBRIDGE_TEST_POSTGRES is not set")
	}
	t.Parallel()
	u, err := url.Parse(dbtest.PostgresSchema(t, base, "test"))
	if err != nil {
		t.Fatal(err)
	}
	// A space as %20: pgx does not read '+' as one.
	u.RawQuery += "&options=-c%20default_transaction_read_only%3Don"
	db, err := sqlstore.Open(context.Background(), u.String())
	if err == nil {
		db.Close()
		t.Fatal("a read-only PostgreSQL server was opened")
	}
	if scorebridge.ErrorCode(err) != scorebridge.EUNAVAILABLE || !strings.Contains(scorebridge.ErrorMessage(err), "takes no writes") {
		t.Fatalf("open on a read-only server: %v", err)
	}
}
