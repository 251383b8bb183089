package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processLock is an exclusive lock on a SQLite database for one running
// center, held for the life of the process: two centers on one file would
// each work the same jobs and send the same tickets twice. It is a flock on
// <database>.lock, so the kernel releases it when the process ends, even by
// kill -9, and a stale lock file never blocks a start.
type processLock struct{ f *os.File }

// LockExclusive makes this process the only center on a SQLite database,
// until Close; a second one is refused with the pid of the one running.
// Commands that only read or change data (token, user, backup) do not take
// it. On PostgreSQL, where replicas share the database by design, it does
// nothing.
func (db *DB) LockExclusive() error {
	if db.Dialect != DialectSQLite || db.lock != nil {
		return nil
	}
	path := db.path + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock database %s: %w", db.path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			holder := "another process"
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil && pid > 0 {
				holder = fmt.Sprintf("another scorebridge process (pid %d)", pid)
			}
			return fmt.Errorf("database %s is in use by %s: only one center may run on a SQLite database; stop it first, or use PostgreSQL for several replicas", db.path, holder)
		}
		return fmt.Errorf("lock database %s: %w", db.path, err)
	}
	// The pid is for the message above only; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	db.lock = &processLock{f: f}
	return nil
}

func (l *processLock) release() {
	if l != nil {
		l.f.Close()
	}
}

// fileID is the identity of the SQLite file the center opened.
type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, nil
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// ErrDatabaseReplaced and ErrDatabaseRemoved say why a SQLite center can no
// longer write: its file is gone or another file took its name. Going on
// would "send" tickets into an unlinked file that is lost at exit.
var (
	ErrDatabaseRemoved  = errors.New("the database file was removed while the center ran")
	ErrDatabaseReplaced = errors.New("the database file is no longer the one the center opened")
)

// CheckFile reports whether the SQLite file at the database's path is still
// the one opened (same device and inode); nil on PostgreSQL.
func (db *DB) CheckFile() error {
	if db.Dialect != DialectSQLite || db.id == (fileID{}) {
		return nil
	}
	id, err := statID(db.path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrDatabaseRemoved, db.path)
	} else if err != nil {
		return fmt.Errorf("check database file %s: %w", db.path, err)
	}
	if id != db.id {
		return fmt.Errorf("%w: %s", ErrDatabaseReplaced, db.path)
	}
	return nil
}
