-- Idempotency keys: the first answer to a creating request sent with an
-- Idempotency-Key header (or a form's idempotency_key field), kept per
-- principal so a retry whose answer was lost gets that answer again
-- instead of creating a second ticket, action or connection.
CREATE TABLE idempotency_keys (
	principal    TEXT COLLATE "C" NOT NULL,                    -- the acting user's id (an account, or token:<id>)
	idem_key     TEXT COLLATE "C" NOT NULL,
	fingerprint  TEXT NOT NULL,                  -- SHA-256 of method, path and body, hex
	status       INTEGER NOT NULL DEFAULT 0,     -- the answer's HTTP status; 0 while the first request runs
	content_type TEXT NOT NULL DEFAULT '',
	location     TEXT NOT NULL DEFAULT '',
	body         BYTEA,
	created_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (principal, idem_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
