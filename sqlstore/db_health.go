package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scorebridge/scorebridge"
)

// Causes of a database that cannot be written, as WriteProblem names them.
const (
	CauseDiskFull     = "disk_full"
	CauseReadOnly     = "read_only"
	CauseIOError      = "io_error"
	CauseFileRemoved  = "file_removed"
	CauseFileReplaced = "file_replaced"
)

// WriteProblem says why the database cannot be written.
type WriteProblem struct {
	// Cause is one of the Cause constants.
	Cause string
	// Message says it for a person: what happened and what to do.
	Message string
	// At is when the center found it.
	At time.Time
}

func (p *WriteProblem) Error() string { return "the database cannot be written: " + p.Message }

// unwritable is the error a write gets when the database cannot take it:
// an application error (EUNAVAILABLE, with the problem in words) that still
// unwraps to the driver's error for the log.
type unwritable struct {
	coded *scorebridge.Error
	cause error
}

func (e *unwritable) Error() string   { return e.coded.Message + " (" + e.cause.Error() + ")" }
func (e *unwritable) Unwrap() []error { return []error{e.coded, e.cause} }

// writeHealth is what the center last learnt about writing its database.
type writeHealth struct {
	problem atomic.Pointer[WriteProblem]
}

// WriteProblem returns why the database cannot be written, nil when it can
// as far as the center knows: its SQLite file removed or replaced (checked
// now, every time), or the last write refused for want of space (until
// there is space again), a read-only file or an I/O error (until a write
// succeeds again). While all is well it does no I/O beyond a stat, so pages
// and probes ask it on every request.
func (db *DB) WriteProblem() *WriteProblem {
	if err := db.CheckFile(); err != nil {
		return fileProblem(err, db.now())
	}
	p := db.health.problem.Load()
	if p != nil && p.Cause == CauseDiskFull && db.Dialect == DialectSQLite && db.hasSpace() {
		db.health.problem.CompareAndSwap(p, nil)
		return nil
	}
	return p
}

// minFreeBytes is the free space under which the disk still counts as full.
const minFreeBytes = 1 << 20

// hasSpace reports whether the database can grow again: its file system
// has room and it is below its page limit (max_page_count, on the writer
// connection that holds it). A write that merely rewrites pages in place
// succeeds on a full disk too, so only this clears a full disk.
func (db *DB) hasSpace() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(db.path), &st); err != nil || st.Bavail*uint64(st.Bsize) < minFreeBytes {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var pages, limit int64
	if err := db.SQL.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count()), (SELECT max_page_count FROM pragma_max_page_count())`).Scan(&pages, &limit); err != nil {
		return false
	}
	return pages < limit
}

// fileProblem turns a CheckFile failure into a WriteProblem.
func fileProblem(err error, at time.Time) *WriteProblem {
	switch {
	case errors.Is(err, ErrDatabaseRemoved):
		return &WriteProblem{Cause: CauseFileRemoved, At: at, Message: err.Error() + "; the center refuses every change rather than write into a file that is lost when it stops. Restore the file from a backup and restart the center."}
	case errors.Is(err, ErrDatabaseReplaced):
		return &WriteProblem{Cause: CauseFileReplaced, At: at, Message: err.Error() + "; the center refuses every change rather than write to a file it did not open. Restart the center to use the file now in place."}
	}
	return &WriteProblem{Cause: CauseIOError, At: at, Message: err.Error()}
}

// refuseWrite returns the error a write gets for problem p.
func refuseWrite(p *WriteProblem, cause error) error {
	if cause == nil {
		cause = errors.New(p.Cause)
	}
	return &unwritable{coded: scorebridge.Errorf(scorebridge.EUNAVAILABLE, "The database cannot be written: %s", p.Message), cause: cause}
}

// checkWritable refuses a write transaction before it begins when the
// SQLite file is no longer the one opened.
func (db *DB) checkWritable() error {
	if err := db.CheckFile(); err != nil {
		return refuseWrite(fileProblem(err, db.now()), err)
	}
	return nil
}

// writeFailed looks at a failed write: a database that cannot be written
// (full, read-only, an I/O error) is recorded for WriteProblem and answered
// as such; any other error (a constraint, a bug) is returned as it is.
func (db *DB) writeFailed(err error) error {
	if err == nil {
		return nil
	}
	var u *unwritable
	if errors.As(err, &u) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return db.pgWriteFailed(err, pgErr)
	}
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	p := &WriteProblem{At: db.now()}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		p.Cause, p.Message = CauseDiskFull, fmt.Sprintf("the disk holding %s is full (or the database reached its size limit); nothing of the change was written. Free space, and the center takes writes again.", db.path)
	case sqlite3.SQLITE_READONLY:
		p.Cause, p.Message = CauseReadOnly, fmt.Sprintf("%s is read-only (its permissions, or a file system mounted read-only); nothing of the change was written. Make it writable for the center's user and restart the center.", db.path)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		p.Cause, p.Message = CauseIOError, fmt.Sprintf("reading or writing %s failed (%s); nothing of the change was written. Check the disk and the file.", db.path, e.Error())
	default:
		return err
	}
	db.health.problem.Store(p)
	return refuseWrite(p, err)
}

// pgWriteFailed is writeFailed for PostgreSQL's answers: its disk full
// (53100) and a server that takes no writes (25006, a standby or a
// read-only default).
func (db *DB) pgWriteFailed(err error, e *pgconn.PgError) error {
	p := &WriteProblem{At: db.now()}
	switch e.Code {
	case "53100":
		p.Cause, p.Message = CauseDiskFull, "the PostgreSQL server's disk is full; nothing of the change was written. Free space on the database server, and the center takes writes again."
	case "25006":
		p.Cause, p.Message = CauseReadOnly, "the PostgreSQL server takes no writes (a standby, or transactions read-only by default); nothing of the change was written. Point the center at the primary."
	default:
		return err
	}
	db.health.problem.Store(p)
	return refuseWrite(p, err)
}

// writeSucceeded clears a recorded problem once a write commits again,
// except a full SQLite disk, cleared only by finding space (hasSpace): a
// write that rewrites pages in place succeeds on it too. (PostgreSQL
// allocates as it writes, so a write that commits there shows space.)
func (db *DB) writeSucceeded() {
	if p := db.health.problem.Load(); p != nil && (p.Cause != CauseDiskFull || db.Dialect == DialectPostgres) {
		db.health.problem.CompareAndSwap(p, nil)
	}
}
