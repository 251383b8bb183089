package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// BackupSQLite writes a consistent copy of the SQLite database at path to
// dest with VACUUM INTO, while a center may be running on it: the copy is
// one read transaction (WAL lets the center keep writing meanwhile), so it
// holds the last commit before it began, compacted. dest must not exist, so
// a backup never overwrites another. The encryption key file is not part of
// the database: back it up too, apart from the copy.
//
// It opens the file with a connection of its own rather than Open, so it
// neither migrates the schema nor waits for a running center's lock.
func BackupSQLite(ctx context.Context, path, dest string) error {
	switch {
	case IsPostgresDSN(path):
		return errors.New("backup: this is a PostgreSQL database; use pg_dump (see the production guide)")
	case strings.Contains(path, "?"):
		return fmt.Errorf("backup: the path %q must not contain '?'", path)
	case dest == "":
		return errors.New("backup: give the file to write the copy to")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file, a backup never overwrites one", dest)
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10))
	sqldb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer sqldb.Close()
	if _, err := sqldb.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("backup %s to %s: %w", path, dest, err)
	}
	// The copy holds the same secrets (sealed) as the database: owner only.
	if err := os.Chmod(dest, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
