-- ServiceNow connections and the authorizations in flight.
-- client_secret, access_token, refresh_token and code_verifier hold values
-- sealed with AES-256-GCM (package secret), never clear text.

CREATE TABLE connections (
	id                       TEXT COLLATE "C" PRIMARY KEY,
	instance_url             TEXT NOT NULL,
	client_id                TEXT NOT NULL,
	client_secret            TEXT NOT NULL,
	status                   TEXT NOT NULL,
	is_default               BOOLEAN NOT NULL DEFAULT FALSE,
	integration_user         TEXT NOT NULL DEFAULT '',
	access_token             TEXT NOT NULL DEFAULT '',
	refresh_token            TEXT NOT NULL DEFAULT '',
	access_token_expires_at  TIMESTAMPTZ,
	refresh_token_expires_at TIMESTAMPTZ,
	refresh_token_lifespan   BIGINT NOT NULL,         -- seconds
	connected_since          TIMESTAMPTZ,
	last_success_at          TIMESTAMPTZ,
	last_error               TEXT NOT NULL DEFAULT '',
	last_error_cause         TEXT NOT NULL DEFAULT '',
	last_error_at            TIMESTAMPTZ,
	created_at               TIMESTAMPTZ NOT NULL,
	updated_at               TIMESTAMPTZ NOT NULL,
	UNIQUE (instance_url, client_id)
);

-- At most one default connection.
CREATE UNIQUE INDEX connections_one_default ON connections (is_default) WHERE is_default;

CREATE TABLE connection_authorizations (
	state_hash    TEXT COLLATE "C" PRIMARY KEY,      -- SHA-256 of the OAuth state, hex
	connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
	code_verifier TEXT NOT NULL,                     -- the PKCE verifier, sealed
	expires_at    TIMESTAMPTZ NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX connection_authorizations_expires ON connection_authorizations (expires_at);
