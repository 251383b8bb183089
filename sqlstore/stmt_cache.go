package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"modernc.org/sqlite"
)

// The SQLite driver parses and plans every query it is given as text, and
// the pages run the same few dozen queries over and over: at 5,000 actions
// the home page spent a quarter of its CPU preparing statements. The read
// connections therefore keep their prepared statements, each connection
// its own (a statement belongs to one connection), keyed by the query's
// text. PostgreSQL's driver (pgx) caches statements by itself.

// stmtCacheSize bounds the statements one connection keeps: the queries
// are written in the code, a few hundred in all, but a query built with a
// placeholder per item could otherwise add one per list length.
const stmtCacheSize = 256

// stmtPrepares counts the statements the read connections prepared to keep,
// for the test that checks they are kept.
var stmtPrepares atomic.Int64

// cachingConnector opens read connections that keep their statements.
type cachingConnector struct{ base driver.Connector }

func newCachingConnector(dsn string) (cachingConnector, error) {
	base, err := sqlite.NewConnector(dsn)
	return cachingConnector{base: base}, err
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errors.New("the SQLite driver's connection lacks the context methods")
	}
	return &cachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.base.Driver() }

// sqliteConn is what database/sql uses of the driver's connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn runs queries through statements it keeps. database/sql uses
// a connection from one goroutine at a time (closing rows included), so
// the map needs no lock of its own.
type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

// queryStmt is a prepared statement that takes a context, as every one the
// SQLite driver prepares does.
type queryStmt interface {
	driver.Stmt
	driver.StmtQueryContext
}

type cachedStmt struct {
	stmt queryStmt
	// inUse is set while rows read from the statement: a second query of
	// the same text on the connection meanwhile (a query inside another's
	// loop) runs on a statement of its own, as it would uncached.
	inUse bool
}

// QueryContext runs query on its kept statement, preparing it the first
// time.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.stmts[query]
	if s == nil {
		if len(c.stmts) >= stmtCacheSize {
			return c.sqliteConn.QueryContext(ctx, query, args)
		}
		ds, err := c.sqliteConn.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		stmtPrepares.Add(1)
		qs, ok := ds.(queryStmt)
		if !ok {
			ds.Close()
			return c.sqliteConn.QueryContext(ctx, query, args)
		}
		s = &cachedStmt{stmt: qs}
		c.stmts[query] = s
	}
	if s.inUse {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.inUse = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// Unwrap is the driver's connection, for the driver's own functions that
// look through wrappers.
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// Close closes the kept statements with the connection.
func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	c.stmts = nil
	return c.sqliteConn.Close()
}

// cachedRows gives its statement back when closed; the driver resets the
// statement, keeping it prepared.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.inUse = false
	return err
}
