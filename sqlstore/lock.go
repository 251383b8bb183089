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
