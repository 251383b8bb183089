-- The SLA: due days per priority, the grace days and the overdue work
-- note, one row per value changed from its default (DefaultSLA). Its own
-- table, apart from the general settings: the SLA is read on every ticket.
CREATE TABLE sla_settings (
	key        TEXT PRIMARY KEY,   -- p1 ... p5, grace_days, overdue_work_note
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	updated_by TEXT NOT NULL
);

-- When a ticket was found past its due date (once), and when its work
-- note reached ServiceNow.
ALTER TABLE tickets ADD COLUMN overdue_at TEXT;
ALTER TABLE tickets ADD COLUMN overdue_noted_at TEXT;

-- The overdue check reads sent tickets with a due date, earliest first.
CREATE INDEX tickets_due ON tickets (status, due_date) WHERE due_date <> '' AND overdue_at IS NULL;
CREATE INDEX tickets_overdue ON tickets (overdue_at) WHERE overdue_at IS NOT NULL;
