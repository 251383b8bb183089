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
	// Addr is the listen address.
	Addr string
	// TLS serves HTTPS with a generated self-signed certificate whose PEM
	// is written to CertOut (default snowsim-cert.pem in the working directory).
	TLS     bool
	CertOut string
	// State is the state file; empty keeps everything in memory.
	State string
	// AdminPassword is admin's password on a fresh instance; empty means
	// "admin". A secret: from the environment or its _FILE twin only.
	AdminPassword string
	// CrossScopeBlocked, DataPolicy: instance customisations from the
	// troubleshooting guide.
	CrossScopeBlocked, DataPolicy bool
	// OAuthClientID, OAuthClientSecret, OAuthRedirectURL and OAuthClientName
	// register an Application Registry entry on start when none has that
	// client ID yet, so a demo can connect without a manual step. The
	// secret comes from the environment or its _FILE twin only.
	OAuthClientID, OAuthClientSecret, OAuthRedirectURL, OAuthClientName string
	// Hosts are host names the simulator answers besides its addresses
	// and localhost (a name in /etc/hosts, a proxy's); any other Host
	// header is refused with 421 against DNS rebinding.
	Hosts string
	// Knobs are the OAuth, SSO, rate limit, fault and notification knobs.
	Knobs snowsim.Knobs
}

// newSnowsimConfig takes the simulator's settings from the options table.
func newSnowsimConfig(c *config) snowsimConfig {
	cfg := snowsimConfig{
		Addr: c.String(optSimAddr), Hosts: c.String(optSimHosts), TLS: c.Bool(optSimTLS), CertOut: c.String(optSimCertOut), State: c.String(optSimState),
		AdminPassword:     c.String(optSimAdminPassword),
		CrossScopeBlocked: c.Bool(optSimCrossScope), DataPolicy: c.Bool(optSimDataPolicy),
		OAuthClientID: c.String(optSimClientID), OAuthClientSecret: c.String(optSimClientSecret),
		OAuthRedirectURL: c.String(optSimRedirectURL), OAuthClientName: c.String(optSimClientName),
	}
	k := &cfg.Knobs
	k.SSO, k.ClientCredentials = c.Bool(optSimSSO), c.Bool(optSimClientCredentials)
	k.RateLimitPerHour, k.RateLimitPerSecond = int(c.Int(optSimRatePerHour)), c.Float(optSimRatePerSecond)
	k.Faults.Latency, k.Faults.Jitter = c.Duration(optSimLatency), c.Duration(optSimJitter)
	k.Faults.ErrorRate, k.Faults.DropRate = c.Float(optSimErrorRate), c.Float(optSimDropRate)
	k.Faults.IncludeOAuth, k.FaultSeed = c.Bool(optSimFaultsOAuth), uint64(c.Int(optSimFaultSeed))
	k.NotifyURL, k.NotifyMaxDelay = c.String(optSimNotify), c.Duration(optSimNotifyDelay)
	return cfg
}

func (c *snowsimConfig) validate() error {
	if c.TLS && c.CertOut == "" {
		return usagef("--tls needs --tls-cert-out to name where the certificate goes")
	}
	if k := c.Knobs; k.Faults.ErrorRate+k.Faults.DropRate > 1 {
		return usagef("--error-rate plus --drop-rate must not exceed 1")
	}
	if c.OAuthClientID != "" && c.OAuthClientSecret == "" {
		return usagef("--oauth-client-id needs SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET (or _FILE)")
	}
	if c.OAuthClientID == "" && (c.OAuthClientSecret != "" || c.OAuthRedirectURL != "") {
		return usagef("SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET and --oauth-redirect-url need --oauth-client-id")
	}
	return nil
}

func runSnowsim(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("snowsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts, err := parseConfig("snowsim", fs, args, getenv)
	if err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usagef("snowsim takes no arguments, got %q", fs.Args())
	}
	cfg := newSnowsimConfig(opts)
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
		fmt.Fprintln(stdout, "snowsim: log in as admin with the password from SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD")
	}

	srv := &http.Server{
		Handler:           snowsim.HostGuard(strings.Split(cfg.Hosts, ","), in),
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
