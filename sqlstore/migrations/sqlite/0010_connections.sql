-- ServiceNow connections and the authorizations in flight.
-- client_secret, access_token, refresh_token and code_verifier hold values
-- sealed with AES-256-GCM (package secret), never clear text.
-- Timestamps are fixed-width UTC text, NULL when unknown.

CREATE TABLE connections (
	id                       TEXT PRIMARY KEY,
	instance_url             TEXT NOT NULL,
	client_id                TEXT NOT NULL,
	client_secret            TEXT NOT NULL,
	status                   TEXT NOT NULL,
	is_default               INTEGER NOT NULL DEFAULT 0,
	integration_user         TEXT NOT NULL DEFAULT '',
	access_token             TEXT NOT NULL DEFAULT '',
	refresh_token            TEXT NOT NULL DEFAULT '',
	access_token_expires_at  TEXT,
	refresh_token_expires_at TEXT,
	refresh_token_lifespan   INTEGER NOT NULL,        -- seconds
	connected_since          TEXT,
	last_success_at          TEXT,
	last_error               TEXT NOT NULL DEFAULT '',
	last_error_cause         TEXT NOT NULL DEFAULT '',
	last_error_at            TEXT,
	created_at               TEXT NOT NULL,
	updated_at               TEXT NOT NULL,
	UNIQUE (instance_url, client_id)
);

-- At most one default connection.
CREATE UNIQUE INDEX connections_one_default ON connections (is_default) WHERE is_default = 1;

CREATE TABLE connection_authorizations (
	state_hash    TEXT PRIMARY KEY,                  -- SHA-256 of the OAuth state, hex
	connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
	code_verifier TEXT NOT NULL,                     -- the PKCE verifier, sealed
	expires_at    TEXT NOT NULL,
	created_at    TEXT NOT NULL
);

CREATE INDEX connection_authorizations_expires ON connection_authorizations (expires_at);
