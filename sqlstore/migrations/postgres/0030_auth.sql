-- Who may sign in and what they did: accounts, browser sessions, API tokens
-- and the audit log. Passwords are bcrypt hashes; session and API token
-- secrets are kept only as SHA-256 hashes, never in clear.

CREATE TABLE accounts (
	id                   TEXT COLLATE "C" PRIMARY KEY,
	name                 TEXT NOT NULL UNIQUE,
	role                 TEXT NOT NULL,
	provider             TEXT NOT NULL,               -- local or oidc
	subject              TEXT,                        -- issuer + ' ' + sub for oidc, NULL for local
	password_hash        TEXT NOT NULL DEFAULT '',    -- bcrypt, '' for oidc
	must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
	created_at           TIMESTAMPTZ NOT NULL,
	last_sign_in_at      TIMESTAMPTZ,
	UNIQUE (subject)
);

CREATE TABLE sessions (
	token_hash   TEXT COLLATE "C" PRIMARY KEY,       -- SHA-256 of the cookie's token, hex
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at   TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL                -- the absolute end
);

CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
	id           TEXT COLLATE "C" PRIMARY KEY,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,               -- SHA-256 of the token, hex
	hint         TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ
);

CREATE TABLE audit_events (
	id      BIGSERIAL PRIMARY KEY,
	at      TIMESTAMPTZ NOT NULL,
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
