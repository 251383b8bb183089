-- Notification targets (email over SMTP, webhooks) and the groups events
-- are gathered into: one row per target, kind, root cause and period, so
-- a broken connection with 50 waiting tickets is one message.

CREATE TABLE notification_targets (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	channel        TEXT NOT NULL,
	enabled        INTEGER NOT NULL DEFAULT 1,
	digest         TEXT NOT NULL,
	events         TEXT NOT NULL DEFAULT '[]',
	smtp_host      TEXT NOT NULL DEFAULT '',
	smtp_port      INTEGER NOT NULL DEFAULT 0,
	smtp_username  TEXT NOT NULL DEFAULT '',
	smtp_password  TEXT NOT NULL DEFAULT '', -- sealed by package secret
	email_from     TEXT NOT NULL DEFAULT '',
	email_to       TEXT NOT NULL DEFAULT '[]',
	webhook_url    TEXT NOT NULL DEFAULT '', -- sealed: a Slack or Teams URL is a credential
	webhook_host   TEXT NOT NULL DEFAULT '',
	webhook_format TEXT NOT NULL DEFAULT '',
	webhook_secret TEXT NOT NULL DEFAULT '', -- sealed
	failures       INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	last_error_at  TEXT,
	last_sent_at   TEXT,
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);

CREATE TABLE notification_groups (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	target_id    TEXT NOT NULL REFERENCES notification_targets (id) ON DELETE CASCADE,
	kind         TEXT NOT NULL,
	cause        TEXT NOT NULL,
	period_start TEXT NOT NULL,
	subject      TEXT NOT NULL,
	details      TEXT NOT NULL,
	links        TEXT NOT NULL,
	events       INTEGER NOT NULL,
	first_at     TEXT NOT NULL,
	last_at      TEXT NOT NULL,
	sent_at      TEXT,
	UNIQUE (target_id, kind, cause, period_start)
);

CREATE INDEX notification_groups_unsent ON notification_groups (target_id, period_start) WHERE sent_at IS NULL;
