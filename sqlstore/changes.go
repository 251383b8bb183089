package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// changeChannel is the PostgreSQL notification channel every committed
// write transaction announces itself on: scorebridge_changes.<schema>,
// since channels are per database and centers may share one database in
// schemas of their own. PostgreSQL delivers a NOTIFY only when its
// transaction commits, so a replica hears of another's change exactly when
// it can read it. The result is a quoted identifier.
func changeChannel(schema string) string {
	return pgx.Identifier{"scorebridge_changes." + schema}.Sanitize()
}

// changeFeed counts the changes this process knows were committed: its own
// commits at once, other replicas' as their notifications arrive. What the
// web pages keep of what they read is good while the count stays the same.
type changeFeed struct {
	n atomic.Uint64
	// live is true while PostgreSQL's listener is connected.
	live atomic.Bool

	startOnce sync.Once
	stop      context.CancelFunc
	done      chan struct{}

	// On SQLite, other processes commit too (the token and user
	// commands, a restore): a connection of its own asks PRAGMA
	// data_version, which changes whenever another connection committed.
	mu          sync.Mutex
	watch       *sql.Conn
	dataVersion int64
}

// Version returns a number that is the same for as long as the database's
// content has not changed, and ok false when that cannot be known (on
// PostgreSQL, while the connection that listens for other replicas'
// changes is down). A reader keeps what it read under the number it got
// before reading; a change committed meanwhile moves the number, so the
// kept copy is never used again.
func (db *DB) Version() (v uint64, ok bool) {
	if db.Dialect != DialectPostgres {
		ok = db.checkOtherCommits()
		return db.changes.n.Load(), ok
	}
	// The listener starts with the first reader that asks, so commands and
	// tests that never ask hold no extra connection.
	db.changes.startOnce.Do(db.startListening)
	// live is read first: the listener moves the count before it sets live
	// again after a reconnect, so a true here comes with a count that
	// covers whatever was missed while it was down.
	ok = db.changes.live.Load()
	return db.changes.n.Load(), ok
}

// checkOtherCommits moves the count when another connection (another
// process, since this one's commits move it themselves) committed since
// the last check. It reports false when it cannot tell.
func (db *DB) checkOtherCommits() bool {
	f := &db.changes
	f.mu.Lock()
	defer f.mu.Unlock()
	ctx := context.Background()
	if f.watch == nil {
		// A read connection, never the writer (database/sql would hand
		// out the one writer for good): none while the file at the path
		// is not the one opened, since a new connection would open that.
		if db.read == nil || db.read == db.SQL || db.CheckFile() != nil {
			return false
		}
		c, err := db.read.Conn(ctx)
		if err != nil {
			return false
		}
		f.watch = c
	}
	var dv int64
	if err := f.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&dv); err != nil {
		f.watch.Close()
		f.watch = nil
		return false
	}
	if dv != f.dataVersion {
		f.dataVersion = dv
		f.n.Add(1)
	}
	return true
}

// noteChanged moves the count after one of this process's commits.
func (db *DB) noteChanged() { db.changes.n.Add(1) }

// startListening runs the listener until Close: one connection of its own
// (not the pool's) that LISTENs on changeChannel and moves the count on
// every notification, reconnecting when it drops.
func (db *DB) startListening() {
	ctx, cancel := context.WithCancel(context.Background())
	db.changes.stop = cancel
	db.changes.done = make(chan struct{})
	go func() {
		defer close(db.changes.done)
		wait := 100 * time.Millisecond
		for ctx.Err() == nil {
			connected := db.listen(ctx)
			db.changes.live.Store(false)
			if connected {
				wait = 100 * time.Millisecond
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 5*time.Second)
		}
	}()
}

// listen connects and listens until the connection fails or ctx ends; it
// reports whether it got as far as listening.
func (db *DB) listen(ctx context.Context) (connected bool) {
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+db.channel); err != nil {
		return false
	}
	// Anything committed while no one listened counts as a change; the
	// count moves before live is set, so readers that see live see it.
	db.changes.n.Add(1)
	db.changes.live.Store(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		db.changes.n.Add(1)
	}
}

// stopListening ends the listener, if it runs, and waits for it, and
// gives back SQLite's watching connection.
func (db *DB) stopListening() {
	db.changes.startOnce.Do(func() {}) // no listener starts after Close
	if db.changes.stop != nil {
		db.changes.stop()
		<-db.changes.done
	}
	db.changes.mu.Lock()
	defer db.changes.mu.Unlock()
	if db.changes.watch != nil {
		db.changes.watch.Close()
		db.changes.watch = nil
	}
}
