package main

import (
	"errors"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
	"github.com/scorebridge/scorebridge/web"
)

// trustedProxies refuses a proxy list the web server could not use.
func trustedProxies(v any) error {
	if _, err := web.ParseTrustedProxies(v.(string)); err != nil {
		return errors.New(scorebridge.ErrorMessage(err))
	}
	return nil
}

// The options table: every setting of every command, defined once. A
// command reads the rows that list it (parseConfig), the flags and their
// -h text come from here, and docs/configuration.md is generated from it
// (go test ./cmd/scorebridge -run TestConfigurationDoc -update).
//
// To add an option: add a row below (or in your own file, then list it in
// options), name the commands that read it, and read it with
// cfg.String(optX), cfg.Bool(optX), ... To add a command: add its name to
// the command lists of the options it reads.

// Commands, grouped by the options they share.
var (
	// centerCommands run the center or act on its connections.
	centerCommands = []string{"serve", "demo", "doctor"}
	// runningCommands run the center's web server and jobs.
	runningCommands = []string{"serve", "demo"}
	// databaseCommands open the center's database given by --db (the
	// demo has its own).
	databaseCommands = []string{"serve", "doctor", "token", "user", "secrets", "backup", "import"}
	// keyCommands need the encryption key of stored secrets.
	keyCommands = []string{"serve", "demo", "doctor", "secrets"}
	// simCommands run the ServiceNow simulator.
	simCommands = []string{"snowsim"}
)

// kindKey is an encryption key, checked at start before the database is
// opened.
var kindKey = kind{Name: "key", Accepts: "base64 of 32 random bytes", zero: "", parse: func(s string) (any, error) {
	if _, err := secret.ParseKey(s); err != nil {
		return nil, err
	}
	return s, nil
}}

// The center.
var (
	optAddr = &option{Flag: "addr", Env: "SCOREBRIDGE_ADDR", Kind: kindHostPort, Default: "127.0.0.1:8080",
		Commands: centerCommands, Usage: "listen address"}
	optDB = &option{Flag: "db", Env: "SCOREBRIDGE_DB", Kind: kindString, Default: "scorebridge.db", Check: notEmpty,
		Commands: databaseCommands, Usage: "SQLite file, or a postgres:// URL"}
	optDemoDB = &option{Flag: "db", Env: "SCOREBRIDGE_DEMO_DB", Kind: kindString, Default: "scorebridge-demo.db", Check: notEmpty,
		Commands: []string{"demo"}, Usage: "the demo's SQLite file (or postgres:// URL), apart from a real center's"}
	optDemoSnowAddr = &option{Flag: "snow-addr", Env: "SCOREBRIDGE_DEMO_SNOW_ADDR", Kind: kindHostPort, Default: "127.0.0.1:8090",
		Commands: []string{"demo"}, Usage: "listen address of the demo's embedded ServiceNow simulator"}
	optLogFormat = &option{Flag: "log-format", Env: "SCOREBRIDGE_LOG_FORMAT", Kind: kindEnum("text", "json"), Default: "text",
		Commands: runningCommands, Usage: "log format on stderr"}
	optPublicURL = &option{Flag: "public-url", Env: "SCOREBRIDGE_PUBLIC_URL", Kind: kindURL, DefaultDoc: "http://<addr>",
		Commands: centerCommands, Usage: "the URL browsers reach the center at; the OAuth redirect URL is this plus /connections/callback. The center answers only this host and the listen address (and localhost for a loopback one); other Host headers get 421 (probes excepted)"}
	optShutdownGrace = &option{Flag: "shutdown-grace", Env: "SCOREBRIDGE_SHUTDOWN_GRACE", Kind: kindDuration, Default: "20s", Check: positive,
		Commands: runningCommands, Usage: "on SIGTERM, how long requests and running ticket jobs get to finish before they are cut short"}
	optSecretKey = &option{Env: "SCOREBRIDGE_SECRET_KEY", Kind: kindKey, Secret: true, DefaultDoc: "a key file next to a SQLite database",
		Commands: keyCommands, Usage: "the key that encrypts ServiceNow secrets: base64 of 32 random bytes (head -c 32 /dev/urandom | base64); the same on every replica"}
	optNewKeyFile = &option{Flag: "new-key-file", Env: "SCOREBRIDGE_NEW_KEY_FILE", Kind: kindString,
		Commands: []string{"secrets"}, Usage: "secrets rotate: where to write the new key when the current one comes from SCOREBRIDGE_SECRET_KEY"}
)

// Connecting to ServiceNow and sending tickets.
var (
	optServiceNowRPS = &option{Flag: "servicenow-rps", Env: "SCOREBRIDGE_SERVICENOW_RPS", Kind: kindFloat, Default: "20",
		Commands: runningCommands, Usage: "requests per second sent to each instance by all replicas together (the pace is kept in the database), so its rate limit is not overrun; negative turns pacing off"}
	optAllowPrivate = &option{Flag: "allow-private-instances", Env: "SCOREBRIDGE_ALLOW_PRIVATE_INSTANCES", Kind: kindBool, Default: "false",
		Commands: centerCommands, Usage: "allow instances on loopback and private addresses (a simulator, an on-premise instance); link-local and metadata addresses are always refused"}
)

// Signing in.
var (
	optAdminPassword = &option{Env: "SCOREBRIDGE_ADMIN_PASSWORD", Kind: kindString, Secret: true, DefaultDoc: "a generated one-time password",
		Commands: runningCommands, Usage: "the first admin's password on a first start (changed at first sign-in)"}
	optSecureCookies = &option{Flag: "secure-cookies", Env: "SCOREBRIDGE_SECURE_COOKIES", Kind: kindBool, Default: "false",
		Commands: runningCommands, Usage: "Secure cookies and HSTS, for a center a proxy serves over HTTPS (always on over TLS)"}
	optTrustedProxies = &option{Flag: "trusted-proxies", Env: "SCOREBRIDGE_TRUSTED_PROXIES", Kind: kindString, DefaultDoc: "none", Check: trustedProxies,
		Commands: runningCommands, Usage: "proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For / Forwarded headers name the client; read from the right, skipping these hops, for the audit log and sign-in throttling. Without it the headers are ignored"}
	optSessionIdle = &option{Flag: "session-idle", Env: "SCOREBRIDGE_SESSION_IDLE", Kind: kindDuration, Default: "2h", Check: positive,
		Commands: runningCommands, Usage: "end a session unused this long"}
	optSessionMax = &option{Flag: "session-max", Env: "SCOREBRIDGE_SESSION_MAX", Kind: kindDuration, Default: "12h", Check: positive,
		Commands: runningCommands, Usage: "end a session this long after sign-in"}
	optOIDCIssuer = &option{Flag: "oidc-issuer", Env: "SCOREBRIDGE_OIDC_ISSUER", Kind: kindURL, DefaultDoc: "off",
		Commands: runningCommands, Usage: "OpenID Connect issuer URL; enables sign-in with it"}
	optOIDCClientID = &option{Flag: "oidc-client-id", Env: "SCOREBRIDGE_OIDC_CLIENT_ID", Kind: kindString,
		Commands: runningCommands, Usage: "OpenID Connect client id"}
	optOIDCClientSecret = &option{Env: "SCOREBRIDGE_OIDC_CLIENT_SECRET", Kind: kindString, Secret: true,
		Commands: runningCommands, Usage: "OpenID Connect client secret"}
	optOIDCRedirectURL = &option{Flag: "oidc-redirect-url", Env: "SCOREBRIDGE_OIDC_REDIRECT_URL", Kind: kindURL,
		Commands: runningCommands, Usage: "this center's callback, <public URL>/auth/oidc/callback"}
	optOIDCScopes = &option{Flag: "oidc-scopes", Env: "SCOREBRIDGE_OIDC_SCOPES", Kind: kindList, Default: "profile,email",
		Commands: runningCommands, Usage: "scopes besides openid"}
	optOIDCRoleClaim = &option{Flag: "oidc-role-claim", Env: "SCOREBRIDGE_OIDC_ROLE_CLAIM", Kind: kindString, Default: "groups", Check: notEmpty,
		Commands: runningCommands, Usage: "ID token claim that decides the role"}
	optOIDCAdmins = &option{Flag: "oidc-admin-values", Env: "SCOREBRIDGE_OIDC_ADMIN_VALUES", Kind: kindList,
		Commands: runningCommands, Usage: "role claim values that make a security admin"}
	optOIDCOperators = &option{Flag: "oidc-operator-values", Env: "SCOREBRIDGE_OIDC_OPERATOR_VALUES", Kind: kindList,
		Commands: runningCommands, Usage: "role claim values that make a security operator; anyone else is a reader"}
	optOIDCName = &option{Flag: "oidc-name", Env: "SCOREBRIDGE_OIDC_NAME", Kind: kindString,
		Commands: runningCommands, Usage: "the identity provider's name on the sign-in button"}
)

// The ServiceNow simulator (scorebridge snowsim).
var (
	optSimAddr = &option{Flag: "addr", Env: "SCOREBRIDGE_SNOWSIM_ADDR", Kind: kindHostPort, Default: "127.0.0.1:8090",
		Commands: simCommands, Usage: "the simulator's listen address"}
	optSimHosts = &option{Flag: "host", Env: "SCOREBRIDGE_SNOWSIM_HOSTS", Kind: kindString, DefaultDoc: "IP addresses and localhost only",
		Commands: simCommands, Usage: "host names the simulator answers besides IP addresses and localhost, comma-separated; any other Host header gets 421, so a DNS-rebinding page cannot reach the demo login"}
	optSimTLS = &option{Flag: "tls", Env: "SCOREBRIDGE_SNOWSIM_TLS", Kind: kindBool, Default: "false",
		Commands: simCommands, Usage: "serve HTTPS with a generated self-signed certificate"}
	optSimCertOut = &option{Flag: "tls-cert-out", Env: "SCOREBRIDGE_SNOWSIM_TLS_CERT_OUT", Kind: kindString, Default: "snowsim-cert.pem",
		Commands: simCommands, Usage: "where --tls writes the certificate PEM for clients to trust"}
	optSimState = &option{Flag: "state", Env: "SCOREBRIDGE_SNOWSIM_STATE", Kind: kindString, DefaultDoc: "in memory",
		Commands: simCommands, Usage: "state file kept across restarts"}
	optSimAdminPassword = &option{Env: "SCOREBRIDGE_SNOWSIM_ADMIN_PASSWORD", Kind: kindString, Secret: true, DefaultDoc: "admin",
		Commands: simCommands, Usage: "password of the seeded admin user on a fresh instance"}
	optSimCrossScope = &option{Flag: "cross-scope-blocked", Env: "SCOREBRIDGE_SNOWSIM_CROSS_SCOPE_BLOCKED", Kind: kindBool, Default: "false",
		Commands: simCommands, Usage: "make oauth_entity unreadable across application scopes"}
	optSimDataPolicy = &option{Flag: "data-policy", Env: "SCOREBRIDGE_SNOWSIM_DATA_POLICY", Kind: kindBool, Default: "false",
		Commands: simCommands, Usage: "require close_code and close_notes to resolve or close"}
	optSimClientID = &option{Flag: "oauth-client-id", Env: "SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_ID", Kind: kindString,
		Commands: simCommands, Usage: "register an OAuth application (oauth_entity) with this client ID on start"}
	optSimClientSecret = &option{Env: "SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_SECRET", Kind: kindString, Secret: true,
		Commands: simCommands, Usage: "the registered OAuth application's client secret"}
	optSimRedirectURL = &option{Flag: "oauth-redirect-url", Env: "SCOREBRIDGE_SNOWSIM_OAUTH_REDIRECT_URL", Kind: kindString,
		Commands: simCommands, Usage: "its redirect URL(s), comma-separated"}
	optSimClientName = &option{Flag: "oauth-client-name", Env: "SCOREBRIDGE_SNOWSIM_OAUTH_CLIENT_NAME", Kind: kindString, Default: "scorebridge",
		Commands: simCommands, Usage: "its name, shown on the consent page"}
	optSimSSO = &option{Flag: "sso", Env: "SCOREBRIDGE_SNOWSIM_SSO", Kind: kindBool, Default: "false",
		Commands: simCommands, Usage: "show the single sign-on notice on the login pages (side_door.do still logs in locally)"}
	optSimClientCredentials = &option{Flag: "client-credentials", Env: "SCOREBRIDGE_SNOWSIM_CLIENT_CREDENTIALS", Kind: kindBool, Default: "false",
		Commands: simCommands, Usage: "enable the OAuth client_credentials grant"}
	optSimRatePerHour = &option{Flag: "rate-limit-per-hour", Env: "SCOREBRIDGE_SNOWSIM_RATE_LIMIT_PER_HOUR", Kind: kindInt, Default: "0", Check: notNegative,
		Commands: simCommands, Usage: "rate limit rule: requests per user per hour for every REST API (0: none)"}
	optSimRatePerSecond = &option{Flag: "rate-limit-per-second", Env: "SCOREBRIDGE_SNOWSIM_RATE_LIMIT_PER_SECOND", Kind: kindFloat, Default: "0", Check: notNegative,
		Commands: simCommands, Usage: "requests per user per second before 429 (0: no limit)"}
	optSimLatency = &option{Flag: "latency", Env: "SCOREBRIDGE_SNOWSIM_LATENCY", Kind: kindDuration, Default: "0s", Check: notNegative,
		Commands: simCommands, Usage: "latency added to every REST API request"}
	optSimJitter = &option{Flag: "jitter", Env: "SCOREBRIDGE_SNOWSIM_JITTER", Kind: kindDuration, Default: "0s", Check: notNegative,
		Commands: simCommands, Usage: "random latency added on top of --latency, up to this much"}
	optSimErrorRate = &option{Flag: "error-rate", Env: "SCOREBRIDGE_SNOWSIM_ERROR_RATE", Kind: kindFloat, Default: "0", Check: fraction,
		Commands: simCommands, Usage: "fraction of REST API requests answered 500/502/503"}
	optSimDropRate = &option{Flag: "drop-rate", Env: "SCOREBRIDGE_SNOWSIM_DROP_RATE", Kind: kindFloat, Default: "0", Check: fraction,
		Commands: simCommands, Usage: "fraction of REST API requests served but whose answer is dropped"}
	optSimFaultsOAuth = &option{Flag: "faults-oauth", Env: "SCOREBRIDGE_SNOWSIM_FAULTS_OAUTH", Kind: kindBool, Default: "false",
		Commands: simCommands, Usage: "inject the faults into /oauth_token.do too"}
	optSimFaultSeed = &option{Flag: "fault-seed", Env: "SCOREBRIDGE_SNOWSIM_FAULT_SEED", Kind: kindInt, Default: "0", Check: notNegative,
		Commands: simCommands, Usage: "seed of the fault injection, for repeatable runs (0: random)"}
	optSimNotify = &option{Flag: "notify", Env: "SCOREBRIDGE_SNOWSIM_NOTIFY", Kind: kindURL,
		Commands: simCommands, Usage: "URL that receives every insert and update of a task record as JSON"}
	optSimNotifyDelay = &option{Flag: "notify-delay", Env: "SCOREBRIDGE_SNOWSIM_NOTIFY_DELAY", Kind: kindDuration, Default: "0s", Check: notNegative,
		Commands: simCommands, Usage: "hold each notification back by a random delay up to this, to shuffle their order"}
)

// options is the table, in the order of the configuration reference.
var options = []*option{
	optAddr, optDB, optDemoDB, optDemoSnowAddr, optLogFormat, optPublicURL, optShutdownGrace, optSecretKey, optNewKeyFile,
	optServiceNowRPS, optAllowPrivate,
	optAdminPassword, optSecureCookies, optTrustedProxies, optSessionIdle, optSessionMax,
	optOIDCIssuer, optOIDCClientID, optOIDCClientSecret, optOIDCRedirectURL, optOIDCScopes, optOIDCRoleClaim, optOIDCAdmins, optOIDCOperators, optOIDCName,
	optSimAddr, optSimHosts, optSimTLS, optSimCertOut, optSimState, optSimAdminPassword, optSimCrossScope, optSimDataPolicy,
	optSimClientID, optSimClientSecret, optSimRedirectURL, optSimClientName, optSimSSO, optSimClientCredentials,
	optSimRatePerHour, optSimRatePerSecond, optSimLatency, optSimJitter, optSimErrorRate, optSimDropRate, optSimFaultsOAuth,
	optSimFaultSeed, optSimNotify, optSimNotifyDelay,
	optBenchPostgres, optBenchActions, optBenchTickets, optBenchRequests, optBenchShare, optBenchCPUProfile, optBenchQuick,
}
