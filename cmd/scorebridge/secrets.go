package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/sqlstore"
)

const secretsUsage = `Usage:
  scorebridge secrets rotate [--db ...] [--new-key-file PATH]

rotate re-seals every stored ServiceNow secret (client secrets, tokens) with
a new encryption key, in one transaction, and replaces the key:
  - key in a file (the default next to a SQLite database, or
    SCOREBRIDGE_SECRET_KEY_FILE): the file is replaced with the new key;
  - key in SCOREBRIDGE_SECRET_KEY: the new key is written to --new-key-file
    (required), for you to put in SCOREBRIDGE_SECRET_KEY on every replica.
Stop the center first: a running center keeps the old key until restarted.
`

// runSecrets manages the encryption key of stored secrets.
func runSecrets(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprint(stderr, secretsUsage)
		return usagef("secrets needs the subcommand rotate")
	}
	fsf := subcommandFlags("secrets rotate", secretsUsage, stderr)
	opts, err := parseConfig("secrets", fsf, args[1:], getenv)
	if err != nil {
		return err
	}
	if fsf.NArg() > 0 {
		return usagef("secrets rotate takes no arguments, got %q", fsf.Args())
	}
	dsn := opts.String(optDB)
	newKeyFile := new(string)
	*newKeyFile = opts.String(optNewKeyFile)

	// Where the current key lives decides where the new one goes.
	keyFile := opts.File(optSecretKey)
	fromEnv := opts.String(optSecretKey) != "" && keyFile == ""
	if !fromEnv && keyFile == "" {
		keyFile = defaultKeyFile(dsn)
	}
	switch {
	case fromEnv && *newKeyFile == "":
		return usagef("the key comes from %s: give --new-key-file to receive the new key", secret.KeyEnv)
	case !fromEnv && keyFile == "":
		return usagef("no encryption key: set %s or %s", secret.KeyEnv, secret.KeyFileEnv)
	case !fromEnv:
		if _, err := os.Stat(keyFile); err != nil {
			return fmt.Errorf("key file %s: %w (nothing to rotate)", keyFile, err)
		}
	}
	keyEnv := func(k string) string {
		switch {
		case fromEnv && k == secret.KeyEnv:
			return opts.String(optSecretKey)
		case !fromEnv && k == secret.KeyFileEnv:
			return keyFile
		}
		return ""
	}
	oldBox, _, err := secret.LoadKey(keyEnv, "")
	if err != nil {
		return err
	}

	// The new key is written before the database changes, so it can never
	// be lost: if the rotation fails, the file is removed again.
	target := *newKeyFile
	if target == "" {
		target = keyFile + ".new"
	}
	newKey := secret.NewKey()
	if err := writeKeyFile(target, newKey); err != nil {
		return err
	}
	parsed, _ := secret.ParseKey(newKey)
	newBox, err := secret.NewBox(parsed)
	if err != nil {
		return err
	}

	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		os.Remove(target)
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	n, err := sqlstore.RotateSecrets(ctx, db, oldBox, newBox)
	if err != nil {
		os.Remove(target)
		return err
	}
	ctx = scorebridge.NewContextWithUser(ctx, cliUser)
	if err := sqlstore.NewAuditStore(db).RecordAuditEvent(ctx, &scorebridge.AuditEvent{Action: scorebridge.AuditSecretsRotate,
		Detail: map[string]any{"values": n, "from_key_id": oldBox.KeyID(), "to_key_id": newBox.KeyID()}}); err != nil {
		fmt.Fprintf(stderr, "scorebridge: the rotation is done but could not be audited: %v\n", err)
	}
	if *newKeyFile == "" {
		if err := os.Rename(target, keyFile); err != nil {
			return fmt.Errorf("the secrets are sealed with the new key in %s, but it could not replace %s: move it there by hand before starting the center: %w", target, keyFile, err)
		}
		target = keyFile
	}
	fmt.Fprintf(stdout, "Re-sealed %d secrets: key %s replaced by key %s.\n", n, oldBox.KeyID(), newBox.KeyID())
	if fromEnv {
		fmt.Fprintf(stdout, "The new key is in %s: set %s to its content on every replica, then start the center.\n", target, secret.KeyEnv)
	} else {
		fmt.Fprintf(stdout, "The new key is in %s. Back it up with the database.\n", target)
	}
	return nil
}

// defaultKeyFile is where the embedded default keeps the encryption key: next
// to its SQLite file. PostgreSQL has no default; its key comes from the
// environment.
func defaultKeyFile(dsn string) string {
	if sqlstore.IsPostgresDSN(dsn) {
		return ""
	}
	return dsn + ".key"
}

// writeKeyFile creates a key file readable by its owner only; it refuses to
// overwrite, so a key is never lost by accident.
func writeKeyFile(path, key string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: an earlier rotation may have stopped half-way; keep it safe and remove it, then run again", path)
	} else if err != nil {
		return fmt.Errorf("write new key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write new key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write new key: %w", err)
	}
	return f.Close()
}
