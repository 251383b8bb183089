-- Who may sign in and what they did: accounts, browser sessions, API tokens
-- and the audit log. Passwords are bcrypt hashes; session and API token
-- secrets are kept only as SHA-256 hashes, never in clear.
-- Timestamps are fixed-width UTC text, NULL when unknown.

CREATE TABLE accounts (
	id                   TEXT PRIMARY KEY,
	name                 TEXT NOT NULL UNIQUE,
	role                 TEXT NOT NULL,
	provider             TEXT NOT NULL,               -- local or oidc
	subject              TEXT,                        -- issuer + ' ' + sub for oidc, NULL for local
	password_hash        TEXT NOT NULL DEFAULT '',    -- bcrypt, '' for oidc
	must_change_password INTEGER NOT NULL DEFAULT 0,
	created_at           TEXT NOT NULL,
	last_sign_in_at      TEXT,
	UNIQUE (subject)
);

CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,                   -- SHA-256 of the cookie's token, hex
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL                       -- the absolute end
);

CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,               -- SHA-256 of the token, hex
	hint         TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	expires_at   TEXT,
	last_used_at TEXT,
	revoked_at   TEXT
);

CREATE TABLE audit_events (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      TEXT NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	outcome TEXT NOT NULL,
	target  TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT '',
	detail  TEXT NOT NULL DEFAULT '{}'               -- JSON, secrets redacted
);

CREATE INDEX audit_events_action_at ON audit_events (action, at);
CREATE INDEX audit_events_actor_at ON audit_events (actor, at);
CREATE INDEX audit_events_address_at ON audit_events (address, at);
