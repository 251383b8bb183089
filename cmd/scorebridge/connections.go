package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge/connection"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// connectionConfig is the part of the center's configuration about
// connecting to ServiceNow.
type connectionConfig struct {
	// PublicURL is the address browsers reach the center at; the OAuth
	// redirect URL is PublicURL + /connections/callback. Default
	// http://<listen address> (SCOREBRIDGE_PUBLIC_URL).
	PublicURL string
	// AllowPrivate lets connections reach loopback and private addresses:
	// the simulator, or an on-premise instance on a private network.
	// Default false (SCOREBRIDGE_ALLOW_PRIVATE_INSTANCES).
	AllowPrivate bool

	// secretKey and secretKeyFile are the environment's key settings, kept
	// here (never in a flag, never printed) so tests can pass their own.
	secretKey, secretKeyFile string
}

func (c *connectionConfig) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.PublicURL, "public-url", getenv("SCOREBRIDGE_PUBLIC_URL"), "URL browsers reach the center at, for the OAuth redirect URL (env SCOREBRIDGE_PUBLIC_URL; default http://<addr>)")
	allow, _ := strconv.ParseBool(getenv("SCOREBRIDGE_ALLOW_PRIVATE_INSTANCES"))
	fs.BoolVar(&c.AllowPrivate, "allow-private-instances", allow, "allow instances on loopback and private addresses (env SCOREBRIDGE_ALLOW_PRIVATE_INSTANCES)")
	c.secretKey, c.secretKeyFile = getenv(secret.KeyEnv), getenv(secret.KeyFileEnv)
}

func (c *connectionConfig) validate() error {
	if c.PublicURL == "" {
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usagef("--public-url %q must be an absolute http(s) URL such as https://scorebridge.example.org", c.PublicURL)
	}
	return nil
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
	env := map[string]string{secret.KeyEnv: c.secretKey, secret.KeyFileEnv: c.secretKeyFile}
	box, src, err := secret.LoadKey(func(k string) string { return env[k] }, keyFile)
	if err != nil {
		return nil, fmt.Errorf("encryption key for ServiceNow secrets: %w", err)
	}
	where := string(src)
	if src != secret.FromEnv {
		where += " " + keyFile
		if c.secretKeyFile != "" {
			where = string(src) + " " + c.secretKeyFile
		}
	}
	logger.Info("encryption key loaded", "source", where, "key_id", box.KeyID())
	if src == secret.FromCreatedFile {
		logger.Warn("a new encryption key was created next to the database; back it up with the database, since connection secrets cannot be read without it", "key_file", keyFile)
	}
	return box, nil
}

// openConnections builds the connection service on the center's database.
func openConnections(cfg centerConfig, db *sqlstore.DB, addr string, logger *slog.Logger) (*connection.Service, error) {
	box, err := cfg.Connections.loadKey(cfg.DB, logger)
	if err != nil {
		return nil, err
	}
	return connection.New(connection.Config{
		Store:       sqlstore.NewConnectionStore(db, box),
		RedirectURL: cfg.Connections.redirectURL(addr),
		HTTP:        servicenow.HTTPOptions{AllowPrivate: cfg.Connections.AllowPrivate},
		Logger:      logger,
	})
}
