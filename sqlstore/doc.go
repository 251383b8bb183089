// Package sqlstore keeps scorebridge's data in a SQL database through
// database/sql, on one of two back ends chosen by the DSN given to Open:
//
//   - SQLite (modernc.org/sqlite, pure Go), the embedded default: any DSN that
//     is not a PostgreSQL URL is a file path. The file runs in WAL mode with a
//     busy timeout and foreign keys on, through a single connection, which is
//     also what River's riversqlite driver requires.
//   - PostgreSQL (jackc/pgx/v5) for scale-out: a postgres:// or postgresql://
//     URL. Several replicas may share one database; DB.Pool is the pgx pool
//     River's riverpgxv5 driver runs on.
//
// Both back ends keep their own embedded, numbered migrations with the same
// numbers, applied by Open, and behave the same: one conformance suite runs
// against each. Values whose semantics differ between the two (case-insensitive
// search, alphabetical order, timestamps) are computed in Go or stored in a
// form both compare the same way.
package sqlstore
