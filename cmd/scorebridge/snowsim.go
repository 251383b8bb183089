package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// snowsimConfig is what `scorebridge snowsim` needs to start the simulator.
type snowsimConfig struct {
	// Addr is the listen address. Default 127.0.0.1:8090 (SCOREBRIDGE_SNOWSIM_ADDR).
	Addr string
	// TLS serves HTTPS with a generated self-signed certificate whose PEM
	// is written to CertOut (default snowsim-cert.pem in the working directory).
	TLS     bool
	CertOut string
	// State is the state file; empty keeps everything in memory.
	State string
	// AdminPassword is admin's password on a fresh instance. Default "admin"
	// (SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD or the file named by
	// SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD_FILE).
	AdminPassword string
	// CrossScopeBlocked, DataPolicy: instance customisations from the
	// troubleshooting guide.
	CrossScopeBlocked, DataPolicy bool
	// OAuthClientID, OAuthClientSecret, OAuthRedirectURL and OAuthClientName
	// register an Application Registry entry on start when none has that
	// client ID yet, so a demo can connect without a manual step. The
	// secret can come from SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET[_FILE].
	OAuthClientID, OAuthClientSecret, OAuthRedirectURL, OAuthClientName string
	// Knobs are the OAuth, SSO, rate limit, fault and notification knobs.
	Knobs snowsim.Knobs
}

func (c *snowsimConfig) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.Addr, "addr", envOr(getenv, "SCOREBRIDGE_SNOWSIM_ADDR", "127.0.0.1:8090"), "listen address (env SCOREBRIDGE_SNOWSIM_ADDR)")
	fs.BoolVar(&c.TLS, "tls", false, "serve HTTPS with a generated self-signed certificate")
	fs.StringVar(&c.CertOut, "tls-cert-out", "snowsim-cert.pem", "where --tls writes the certificate PEM for clients to trust")
	fs.StringVar(&c.State, "state", "", "state file kept across restarts (default: in memory)")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "password of the seeded admin user on a fresh instance (env SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD[_FILE]; default admin)")
	fs.BoolVar(&c.CrossScopeBlocked, "cross-scope-blocked", false, "make oauth_entity unreadable across application scopes")
	fs.BoolVar(&c.DataPolicy, "data-policy", false, "require close_code and close_notes to resolve or close")
	fs.StringVar(&c.OAuthClientID, "oauth-client-id", "", "register an OAuth application (oauth_entity) with this client ID on start")
	fs.StringVar(&c.OAuthClientSecret, "oauth-client-secret", "", "its client secret (env SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET[_FILE])")
	fs.StringVar(&c.OAuthRedirectURL, "oauth-redirect-url", "", "its redirect URL(s), comma-separated")
	fs.StringVar(&c.OAuthClientName, "oauth-client-name", "scorebridge", "its name, shown on the consent page")
	k := &c.Knobs
	fs.BoolVar(&k.SSO, "sso", false, "show the single sign-on notice on the login pages (side_door.do still logs in locally)")
	fs.BoolVar(&k.ClientCredentials, "client-credentials", false, "enable the OAuth client_credentials grant")
	fs.IntVar(&k.RateLimitPerHour, "rate-limit-per-hour", 0, "rate limit rule: requests per user per hour for every REST API (0: none)")
	fs.Float64Var(&k.RateLimitPerSecond, "rate-limit-per-second", 0, "requests per user per second before 429 (0: no limit)")
	fs.DurationVar(&k.Faults.Latency, "latency", 0, "latency added to every REST API request, e.g. 50ms")
	fs.DurationVar(&k.Faults.Jitter, "jitter", 0, "random latency added on top of --latency, up to this much")
	fs.Float64Var(&k.Faults.ErrorRate, "error-rate", 0, "fraction of REST API requests answered 500/502/503 (0..1)")
	fs.Float64Var(&k.Faults.DropRate, "drop-rate", 0, "fraction of REST API requests served but whose response is dropped (0..1)")
	fs.BoolVar(&k.Faults.IncludeOAuth, "faults-oauth", false, "inject the faults into /oauth_token.do too")
	fs.Uint64Var(&k.FaultSeed, "fault-seed", 0, "seed of the fault injection, for repeatable runs (0: random)")
	fs.StringVar(&k.NotifyURL, "notify", "", "URL that receives every insert and update of a task record as JSON")
	fs.DurationVar(&k.NotifyMaxDelay, "notify-delay", 0, "hold each notification back by a random delay up to this, to shuffle their order")
}

// resolveSecrets fills the admin password and the OAuth client secret from
// the environment when no flag gave them; the *_FILE variants keep them out
// of the process environment.
func (c *snowsimConfig) resolveSecrets(getenv func(string) string) error {
	for _, s := range []struct {
		dst *string
		env string
	}{{&c.AdminPassword, "SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD"}, {&c.OAuthClientSecret, "SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET"}} {
		if *s.dst != "" {
			continue
		}
		if v := getenv(s.env); v != "" {
			*s.dst = v
			continue
		}
		path := getenv(s.env + "_FILE")
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return usagef("%s_FILE: %v", s.env, err)
		}
		if *s.dst = strings.TrimRight(string(b), "\r\n"); *s.dst == "" {
			return usagef("%s_FILE %s is empty", s.env, path)
		}
	}
	return nil
}

func (c *snowsimConfig) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return usagef("--addr %q is not host:port: %v", c.Addr, err)
	}
	if c.TLS && c.CertOut == "" {
		return usagef("--tls needs --tls-cert-out to name where the certificate goes")
	}
	k := c.Knobs
	switch {
	case k.Faults.ErrorRate < 0 || k.Faults.ErrorRate > 1:
		return usagef("--error-rate must be between 0 and 1, not %v", k.Faults.ErrorRate)
	case k.Faults.DropRate < 0 || k.Faults.DropRate > 1:
		return usagef("--drop-rate must be between 0 and 1, not %v", k.Faults.DropRate)
	case k.Faults.ErrorRate+k.Faults.DropRate > 1:
		return usagef("--error-rate plus --drop-rate must not exceed 1")
	case k.Faults.Latency < 0 || k.Faults.Jitter < 0 || k.NotifyMaxDelay < 0:
		return usagef("--latency, --jitter and --notify-delay must not be negative")
	case k.RateLimitPerHour < 0:
		return usagef("--rate-limit-per-hour must not be negative")
	case k.RateLimitPerSecond < 0:
		return usagef("--rate-limit-per-second must not be negative")
	}
	if c.OAuthClientID != "" && c.OAuthClientSecret == "" {
		return usagef("--oauth-client-id needs --oauth-client-secret (or SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET)")
	}
	if c.OAuthClientID == "" && (c.OAuthClientSecret != "" || c.OAuthRedirectURL != "") {
		return usagef("--oauth-client-secret and --oauth-redirect-url need --oauth-client-id")
	}
	if k.NotifyURL != "" {
		if !strings.HasPrefix(k.NotifyURL, "http://") && !strings.HasPrefix(k.NotifyURL, "https://") {
			return usagef("--notify must be an http:// or https:// URL, not %q", k.NotifyURL)
		}
	}
	return nil
}

func runSnowsim(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("snowsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg snowsimConfig
	cfg.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usagef("snowsim takes no arguments, got %q", fs.Args())
	}
	if err := cfg.resolveSecrets(getenv); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}

	// Whether the state file exists decides whose admin password applies.
	resumed := false
	if cfg.State != "" {
		if info, err := os.Stat(cfg.State); err == nil && info.Size() > 0 {
			resumed = true
		}
	}
	in, err := snowsim.New(snowsim.Options{AdminPassword: cfg.AdminPassword, StateFile: cfg.State, Knobs: cfg.Knobs})
	if err != nil {
		return err
	}
	in.SetCrossScopeBlocked(cfg.CrossScopeBlocked)
	in.SetDataPolicy(cfg.DataPolicy)
	registered, err := registerSnowsimClient(in, cfg)
	if err != nil {
		_ = in.Close()
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = in.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLS {
		certPath, err := writeSnowsimCert(cfg.CertOut, &ln)
		if err != nil {
			ln.Close()
			_ = in.Close()
			return err
		}
		scheme = "https"
		fmt.Fprintf(stdout, "snowsim: TLS certificate written to %s (trust it in clients)\n", certPath)
	}
	if registered {
		fmt.Fprintf(stdout, "snowsim: OAuth application %q registered with client ID %s\n", cfg.OAuthClientName, cfg.OAuthClientID)
	}
	url := scheme + "://" + ln.Addr().String()
	fmt.Fprintf(stdout, "snowsim: ServiceNow simulator running at %s\n", url)
	switch {
	case resumed:
		fmt.Fprintf(stdout, "snowsim: state from %s; log in as admin with the password it was created with\n", cfg.State)
	case cfg.AdminPassword == "":
		fmt.Fprintln(stdout, "snowsim: log in as admin, password admin")
	default:
		fmt.Fprintln(stdout, "snowsim: log in as admin with the password from --admin-password")
	}

	srv := &http.Server{
		Handler:           in,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No write timeout: injected latency may be long on purpose.
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := in.WaitNotifications(shutdownCtx); err != nil {
		fmt.Fprintln(stderr, "snowsim: stopped with notifications still queued:", err)
	}
	closeErr := in.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	if closeErr != nil {
		return fmt.Errorf("save state: %w", closeErr)
	}
	fmt.Fprintln(stdout, "snowsim: stopped")
	return nil
}

// writeSnowsimCert makes the self-signed certificate, writes its PEM to path
// and wraps the listener in TLS. It returns the certificate's absolute path.
func writeSnowsimCert(path string, ln *net.Listener) (string, error) {
	cert, pemBytes, err := snowsim.SelfSignedCertificate(time.Now())
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("--tls-cert-out %s: %w", path, err)
	}
	if err := os.WriteFile(abs, pemBytes, 0o644); err != nil {
		return "", fmt.Errorf("write TLS certificate: %w", err)
	}
	*ln = tls.NewListener(*ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return abs, nil
}

// registerSnowsimClient adds the Application Registry entry the flags ask
// for, unless one with that client ID exists (say, from the state file). It
// reports whether it added one.
func registerSnowsimClient(in *snowsim.Instance, cfg snowsimConfig) (bool, error) {
	if cfg.OAuthClientID == "" {
		return false, nil
	}
	if strings.ContainsAny(cfg.OAuthClientID, "^=") {
		return false, usagef("--oauth-client-id must not contain ^ or =")
	}
	rows, err := in.Query("oauth_entity", "client_id="+cfg.OAuthClientID)
	if err != nil {
		return false, err
	}
	if len(rows) > 0 {
		return false, nil
	}
	_, err = in.Insert("oauth_entity", map[string]string{
		"name": cfg.OAuthClientName, "client_id": cfg.OAuthClientID, "client_secret": cfg.OAuthClientSecret,
		"redirect_url": cfg.OAuthRedirectURL,
	})
	if err != nil {
		return false, fmt.Errorf("register OAuth application: %w", err)
	}
	return true, nil
}
