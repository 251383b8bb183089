package main

import (
	"context"
	"fmt"
	"io"

	"github.com/scorebridge/scorebridge/sqlstore"
)

const backupUsage = `Usage:
  scorebridge backup [--db scorebridge.db] --to PATH

backup writes a consistent copy of the SQLite database to PATH (a new file,
readable by its owner only) while the center keeps running. Back up the key
file (<database>.key or SCOREBRIDGE_SECRET_KEY_FILE) too: the copy's
ServiceNow secrets open only with it. To restore, stop the center, put the
copy in place of the database (and remove any -wal and -shm files beside
it), and start the center. For PostgreSQL use pg_dump.
`

// runBackup copies the SQLite database online.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := subcommandFlags("backup", backupUsage, stderr)
	to := fs.String("to", "", "the new file to write the copy to")
	opts, err := parseConfig("backup", fs, args, getenv)
	if err != nil {
		return err
	}
	dsn := opts.String(optDB)
	if fs.NArg() > 0 {
		return usagef("backup takes no arguments, got %q", fs.Args())
	}
	if *to == "" {
		return usagef("backup needs --to, the file to write the copy to")
	}
	if err := sqlstore.BackupSQLite(ctx, dsn, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Copied %s to %s. Keep the key file with it.\n", dsn, *to)
	return nil
}
