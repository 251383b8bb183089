package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// connectionConfig is the part of the center's configuration about
// connecting to ServiceNow.
type connectionConfig struct {
	// PublicURL is the address browsers reach the center at; the OAuth
	// redirect URL is PublicURL + /connections/callback. Empty means
	// http://<listen address>.
	PublicURL string
	// AllowPrivate lets connections reach loopback and private addresses:
	// the simulator, or an on-premise instance on a private network.
	AllowPrivate bool

	// secretKey is the key from the environment or its _FILE twin
	// (never a flag, never printed); secretKeyFile names that file.
	secretKey, secretKeyFile string
}

// newConnectionConfig takes the connection settings from the options table.
func newConnectionConfig(c *config) connectionConfig {
	return connectionConfig{
		PublicURL:    c.String(optPublicURL),
		AllowPrivate: c.Bool(optAllowPrivate),
		secretKey:    c.String(optSecretKey), secretKeyFile: c.File(optSecretKey),
	}
}

// redirectURL is the OAuth callback for a center listening at addr.
func (c *connectionConfig) redirectURL(addr string) string {
	base := strings.TrimRight(c.PublicURL, "/")
	if base == "" {
		base = "http://" + addr
	}
	return base + "/connections/callback"
}

// loadKey returns the encryption key of connection secrets: from the
// environment, or, for SQLite, from a key file next to the database,
// created with 0600 permissions on first start.
func (c *connectionConfig) loadKey(dsn string, logger *slog.Logger) (*secret.Box, error) {
	keyFile := defaultKeyFile(dsn)
	box, src, err := secret.LoadKey(func(k string) string {
		if k == secret.KeyEnv {
			return c.secretKey
		}
		return ""
	}, keyFile)
	if err != nil {
		return nil, fmt.Errorf("encryption key for ServiceNow secrets: %w", err)
	}
	where := string(src)
	switch {
	case c.secretKeyFile != "":
		where = string(secret.FromFile) + " " + c.secretKeyFile
	case src != secret.FromEnv:
		where += " " + keyFile
	}
	logger.Info("encryption key loaded", "source", where, "key_id", box.KeyID())
	if src == secret.FromCreatedFile {
		logger.Warn("a new encryption key was created next to the database; back it up with the database, since connection secrets cannot be read without it", "key_file", keyFile)
	}
	return box, nil
}

// openConnections builds the connection service on the center's database;
// observe, when set, is told of every call to an instance, and notifier of
// a connection that needs authorization.
func openConnections(cfg centerConfig, db *sqlstore.DB, addr string, logger *slog.Logger, observe servicenow.CallObserver, notifier scorebridge.Notifier) (*connection.Service, error) {
	box, err := cfg.Connections.loadKey(cfg.DB, logger)
	if err != nil {
		return nil, err
	}
	return connection.New(connection.Config{
		Store:       sqlstore.NewConnectionStore(db, box),
		RedirectURL: cfg.Connections.redirectURL(addr),
		HTTP:        servicenow.HTTPOptions{AllowPrivate: cfg.Connections.AllowPrivate, Observe: observe},
		Logger:      logger,
		Notifier:    notifier,
	})
}
