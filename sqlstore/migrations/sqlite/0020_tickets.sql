-- Ticket requests (one row per ServiceNow ticket to make), the actions each
-- covers, and the audit of every exchange with the instance. A ticket's id is
-- the correlation_id of its ServiceNow record.

CREATE TABLE tickets (
	id            TEXT PRIMARY KEY,
	type          TEXT NOT NULL,
	connection_id TEXT NOT NULL DEFAULT '',
	name          TEXT NOT NULL,
	description   TEXT NOT NULL DEFAULT '',
	priority      INTEGER NOT NULL,
	due_date      TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD or ''
	actions       TEXT NOT NULL DEFAULT '[]', -- JSON: what was shared, as the person saw it
	requested_by  TEXT NOT NULL,
	status        TEXT NOT NULL,              -- queued, sent, failed
	number        TEXT NOT NULL DEFAULT '',
	sys_id        TEXT NOT NULL DEFAULT '',
	url           TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL DEFAULT '',
	state_name    TEXT NOT NULL DEFAULT '',
	error         TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	sent_at       TEXT
);

CREATE INDEX tickets_created ON tickets (created_at DESC, id);

-- No foreign key to recommendations: a ticket outlives a deleted user action.
CREATE TABLE ticket_recommendations (
	ticket_id         TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	recommendation_id TEXT NOT NULL,
	position          INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, recommendation_id)
);

CREATE INDEX ticket_recommendations_recommendation ON ticket_recommendations (recommendation_id);

CREATE TABLE ticket_audit (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	ticket_id   TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	kind        TEXT NOT NULL,             -- request, response, error
	method      TEXT NOT NULL DEFAULT '',
	path        TEXT NOT NULL DEFAULT '',
	status_code INTEGER NOT NULL DEFAULT 0,
	body        TEXT NOT NULL DEFAULT '',
	at          TEXT NOT NULL
);

CREATE INDEX ticket_audit_ticket ON ticket_audit (ticket_id, id);
