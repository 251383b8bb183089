-- Tracking tickets back from ServiceNow: what the record holds now, the
-- history of its changes, the sync watermark per connection, the push
-- secret per connection (sealed) and the push signatures already seen.

ALTER TABLE tickets ADD COLUMN sys_mod_count INTEGER NOT NULL DEFAULT -1;
ALTER TABLE tickets ADD COLUMN sn_updated_on TEXT NOT NULL DEFAULT '';  -- UTC, as the Table API writes it
ALTER TABLE tickets ADD COLUMN state_class TEXT NOT NULL DEFAULT '';    -- open, resolved, closed, canceled, deleted
ALTER TABLE tickets ADD COLUMN assigned_to TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN assignment_group TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN sn_priority TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN sn_due_date TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN close_code TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN close_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN resolved_at TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN closed_at TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN work_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN comments TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN drift INTEGER NOT NULL DEFAULT 0;

-- A change arrives by sys_id; the cards count by type and state.
CREATE INDEX tickets_sys_id ON tickets (sys_id);
CREATE INDEX tickets_type_state ON tickets (type, state);
CREATE INDEX tickets_drift ON tickets (drift, created_at DESC);

CREATE TABLE ticket_history (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	ticket_id   TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	at          TEXT NOT NULL,
	source      TEXT NOT NULL,              -- sync, push
	mod_count   INTEGER NOT NULL,
	state       TEXT NOT NULL,
	state_name  TEXT NOT NULL,
	detail      TEXT NOT NULL DEFAULT '{}'  -- JSON: the fields that changed
);

CREATE INDEX ticket_history_ticket ON ticket_history (ticket_id, id);

CREATE TABLE sync_watermarks (
	connection_id TEXT PRIMARY KEY,
	watermark     TEXT NOT NULL,            -- sys_updated_on, UTC, as the Table API writes it
	updated_at    TEXT NOT NULL
);

CREATE TABLE push_secrets (
	connection_id TEXT PRIMARY KEY,
	secret        TEXT NOT NULL,            -- sealed
	created_at    TEXT NOT NULL
);

CREATE TABLE push_signatures (
	connection_id TEXT NOT NULL,
	signature     TEXT NOT NULL,
	seen_at       TEXT NOT NULL,
	PRIMARY KEY (connection_id, signature)
);

CREATE INDEX push_signatures_seen ON push_signatures (seen_at);
