package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialects a DB speaks.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqliteBusyTimeout is how long a SQLite statement waits for another process
// holding the write lock before it fails with "database is locked".
const sqliteBusyTimeout = 5 * time.Second

// postgresConnectTimeout applies when the URL sets no connect_timeout.
const postgresConnectTimeout = 10 * time.Second

// DB is an open scorebridge database with its schema up to date.
type DB struct {
	// SQL is the database/sql handle every store uses.
	SQL *sql.DB
	// Dialect is DialectSQLite or DialectPostgres.
	Dialect string
	// Pool is the pgx pool behind SQL on PostgreSQL (for River's riverpgxv5
	// driver); nil on SQLite.
	Pool *pgxpool.Pool
	// read serves read-only transactions (beginRead): on SQLite a pool of
	// read-only connections beside the one writer in SQL, so pages read on
	// every core while a write is in progress (WAL lets readers see the last
	// commit without waiting for the writer); on PostgreSQL, SQL itself.
	read *sql.DB
	// path is the SQLite file; lock is held while a center runs on it.
	path string
	id   fileID
	lock *processLock
	// health is what the last writes learnt (WriteProblem).
	health writeHealth
	// statements counts the statements the stores sent (Statements).
	statements atomic.Int64
	// changes counts committed changes, for Version; channel is where
	// PostgreSQL announces them (changeChannel).
	changes changeFeed
	channel string
	// Now returns the current time. Tests replace it to control timestamps
	// and the day a score snapshot belongs to. Values are used in UTC.
	Now func() time.Time
}

// IsPostgresDSN reports whether dsn names a PostgreSQL database; Open treats
// anything else as a SQLite file path.
func IsPostgresDSN(dsn string) bool {
	dsn = strings.TrimSpace(dsn)
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn and applies any pending migrations. A
// dsn starting with postgres:// or postgresql:// is a PostgreSQL URL; anything
// else is the path of a SQLite file, created if missing. It refuses a
// database whose schema is newer than this binary knows.
func Open(ctx context.Context, dsn string) (*DB, error) {
	dsn = strings.TrimSpace(dsn)
	var db *DB
	var err error
	switch {
	case dsn == "":
		return nil, errors.New("open database: the DSN is empty; give a SQLite file path or a postgres:// URL")
	case IsPostgresDSN(dsn):
		db, err = openPostgres(ctx, dsn)
	default:
		db, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	// The driver reads its settings after the first '?'.
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("open sqlite database %q: the path must not contain '?'", path)
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "1")
	// Write transactions take the lock when they begin, so two processes never
	// both read and then fail to upgrade to a write.
	q.Set("_txlock", "immediate")
	// The database holds the audit log and sealed secrets: readable by its
	// owner only, like the key file. SQLite gives its -wal and -shm files
	// the database file's permissions, so creating it 0600 first covers
	// all three.
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// No "file:" prefix: the path is taken literally, '%' and '#' included.
	sqldb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	// One writer connection: SQLite allows one writer anyway, and River's
	// riversqlite driver requires it. Reads go to the read pool (read).
	sqldb.SetMaxOpenConns(1)
	if err := pingSQLite(ctx, sqldb); err != nil {
		sqldb.Close()
		if dir := filepath.Dir(path); !isDir(dir) {
			return nil, fmt.Errorf("open sqlite database %q: directory %q does not exist: %w", path, dir, err)
		}
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	read, err := openSQLiteReaders(path)
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	id, err := statID(path)
	if err != nil {
		sqldb.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	return &DB{SQL: sqldb, Dialect: DialectSQLite, read: read, path: path, id: id, Now: utcNow}, nil
}

// createPrivate creates a missing database file with 0600 permissions.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	} else if err != nil {
		if dir := filepath.Dir(path); !isDir(dir) {
			return fmt.Errorf("open sqlite database %q: directory %q does not exist: %w", path, dir, err)
		}
		return fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	return f.Close()
}

// sqliteReaders is how many read connections a SQLite database keeps open at
// most: enough for every core, and a few more so a reader waiting on the
// disk does not hold the others back.
func sqliteReaders() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// openSQLiteReaders opens the pool of read connections. They are query-only,
// so a store method that wrongly writes through one fails loudly instead of
// taking the write lock, and their transactions begin deferred: in WAL mode
// they never wait for the writer nor it for them.
func openSQLiteReaders(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_query_only", "1")
	conn, err := newCachingConnector(path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q for reading: %w", path, err)
	}
	read := sql.OpenDB(conn)
	read.SetMaxOpenConns(sqliteReaders())
	read.SetMaxIdleConns(sqliteReaders())
	return read, nil
}

// pingSQLite opens the first connection. Turning a new file to WAL needs the
// file to itself and SQLite answers "busy" at once rather than waiting, so
// when two processes open the same new file together the later one retries
// for up to the busy timeout.
func pingSQLite(ctx context.Context, sqldb *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := sqldb.PingContext(ctx)
		var e *sqlite.Error
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("open postgres database: bad URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// An address that drops packets should fail start-up, not hang it.
		cfg.ConnConfig.ConnectTimeout = postgresConnectTimeout
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		// pgx prepares and caches every statement, and after five runs
		// PostgreSQL may settle on a generic plan, one for any value. For
		// the home page's latest tickets of a type (type = $1 ORDER BY
		// created_at DESC LIMIT 5) the generic plan walks the whole
		// created_at index, which for a type with few tickets is the whole
		// table: 95 ms at 100,000 tickets against 0.15 ms planned for the
		// value. Planning each run costs well under a millisecond here. A
		// URL that sets plan_cache_mode keeps its own.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres database %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database %s: cannot connect: %w", where, err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT COALESCE(current_schema(), 'public')`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", where, err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	return &DB{SQL: sqldb, Dialect: DialectPostgres, Pool: pool, read: sqldb, Now: utcNow, channel: changeChannel(schema)}, nil
}

// Close closes the database handle and, on PostgreSQL, the pool.
func (db *DB) Close() error {
	db.stopListening()
	err := db.SQL.Close()
	if db.read != nil && db.read != db.SQL {
		db.read.Close()
	}
	if db.Pool != nil {
		db.Pool.Close()
	}
	// The lock goes last: the next center may start once the file is
	// closed.
	db.lock.release()
	return err
}

func utcNow() time.Time { return time.Now().UTC() }

// now is the clock in UTC, truncated to the microsecond PostgreSQL keeps so a
// value reads back exactly as it was written on both back ends.
func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Microsecond)
}

// rebind turns the '?' placeholders queries are written with into
// PostgreSQL's $1, $2, ... Queries never hold a literal '?'.
func (db *DB) rebind(query string) string {
	// Every statement a store sends is rebound first, so this is where
	// they are counted.
	db.statements.Add(1)
	if db.Dialect != DialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Statements is how many SQL statements the stores have sent since the
// database was opened (River's own job statements aside): what a
// benchmark reads to say how many statements an operation takes.
func (db *DB) Statements() int64 { return db.statements.Load() }

// tx is a transaction that rebinds placeholders for its dialect.
type tx struct {
	*sql.Tx
	db *DB
	// wrote is set once a statement changed a row, so a commit that
	// follows shows the database takes writes again.
	wrote bool
	// write is set on transactions begun to write (begin): their commit
	// moves the change count (Version), since a statement that returns
	// rows may have written too.
	write bool
	// stmts are the statements execPrepared prepared in this transaction.
	stmts map[string]*sql.Stmt
}

// begin starts a transaction. Every public store method runs in exactly one.
func (db *DB) begin(ctx context.Context) (*tx, error) {
	if err := db.checkWritable(); err != nil {
		return nil, err
	}
	t, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", db.writeFailed(err))
	}
	return &tx{Tx: t, db: db, write: true}, nil
}

// reader is the handle for single read statements outside a transaction.
func (db *DB) reader() *sql.DB {
	if db.read == nil {
		return db.SQL
	}
	if db.CheckFile() != nil {
		// The file at the path is not the one opened: a new read
		// connection would open it, or create an empty one. The writer's
		// connection still holds the opened file, so reads go there.
		return db.SQL
	}
	return db.read
}

// ReadSQL is the handle for read-only statements from outside the stores
// (the metrics' gauges): the read pool on SQLite, the pool on PostgreSQL.
func (db *DB) ReadSQL() *sql.DB { return db.reader() }

// beginRead starts a read-only transaction: one consistent view of the
// database that takes no write lock (on SQLite, on one of the read
// connections). Store methods that only read use it.
func (db *DB) beginRead(ctx context.Context) (*tx, error) {
	t, err := db.reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read transaction: %w", err)
	}
	return &tx{Tx: t, db: db}, nil
}

// ExecContext runs a statement written with '?' placeholders.
func (tx *tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.Tx.ExecContext(ctx, tx.db.rebind(query), args...)
	return tx.noteExec(res, err)
}

// noteExec notes a statement's outcome: a database that cannot be written
// is recorded (writeFailed), a changed row marks the transaction as one
// that wrote.
func (tx *tx) noteExec(res sql.Result, err error) (sql.Result, error) {
	if err != nil {
		return res, tx.db.writeFailed(err)
	}
	if n, nerr := res.RowsAffected(); nerr == nil && n > 0 {
		tx.wrote = true
	}
	return res, nil
}

// Commit commits; a database that cannot take the commit is recorded,
// and a commit of changed rows clears what was recorded.
func (tx *tx) Commit() error {
	if tx.write && tx.db.Dialect == DialectPostgres {
		// Delivered to the other replicas with the commit, not before.
		if _, err := tx.Tx.ExecContext(context.Background(), "NOTIFY "+tx.db.channel); err != nil {
			return tx.db.writeFailed(err)
		}
	}
	if err := tx.Tx.Commit(); err != nil {
		return tx.db.writeFailed(err)
	}
	if tx.write {
		tx.db.noteChanged()
	}
	if tx.wrote {
		tx.db.writeSucceeded()
	}
	return nil
}

// execPrepared runs a statement the transaction repeats for each row (an
// import writes one per action): it is prepared once per transaction, so
// 10,000 actions cost one parse of the SQL, not 10,000. database/sql closes
// the statements with the transaction.
func (tx *tx) execPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := tx.stmts[query]
	if ok {
		tx.db.statements.Add(1) // prepared once, counted at each run
	} else {
		var err error
		if st, err = tx.Tx.PrepareContext(ctx, tx.db.rebind(query)); err != nil {
			return nil, err
		}
		if tx.stmts == nil {
			tx.stmts = map[string]*sql.Stmt{}
		}
		tx.stmts[query] = st
	}
	return tx.noteExec(st.ExecContext(ctx, args...))
}

// QueryContext runs a query written with '?' placeholders.
func (tx *tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, tx.db.rebind(query), args...)
}

// QueryRowContext runs a one-row query written with '?' placeholders.
func (tx *tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, tx.db.rebind(query), args...)
}

// sqliteTimeFormat is fixed-width so that text comparison orders timestamps.
const sqliteTimeFormat = "2006-01-02T15:04:05.000000Z"

// timeArg is the value a timestamp is written as: fixed-width UTC text on
// SQLite, timestamptz on PostgreSQL.
func (db *DB) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if db.Dialect == DialectSQLite {
		return t.Format(sqliteTimeFormat)
	}
	return t
}

// scanTime reads a timestamp column on either back end.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*s.t = v.UTC()
		return nil
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	}
	return fmt.Errorf("cannot read %T as a timestamp", v)
}

func (s scanTime) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("cannot read %q as a timestamp: %w", v, err)
	}
	*s.t = t.UTC()
	return nil
}

// nullTimeArg is timeArg for an optional timestamp: NULL when absent.
func (db *DB) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.timeArg(*t)
}

// scanNullTime reads an optional timestamp column: nil for NULL.
type scanNullTime struct{ t **time.Time }

func (s scanNullTime) Scan(v any) error {
	if v == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (scanTime{&t}).Scan(v); err != nil {
		return err
	}
	*s.t = &t
	return nil
}
