-- Automation rules, their runs, and which tickets each rule made for which
-- action (so a regression or a drift is acted on once per rule).
CREATE TABLE rules (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	enabled    INTEGER NOT NULL DEFAULT 0,
	definition TEXT NOT NULL,            -- JSON: conditions, action, maxTicketsPerRun
	created_by TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_by TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE rule_runs (
	id         BIGSERIAL PRIMARY KEY,
	rule_id    TEXT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
	at         TIMESTAMPTZ NOT NULL,
	trigger    TEXT NOT NULL,            -- import, schedule, manual
	actor      TEXT NOT NULL,
	matched    INTEGER NOT NULL,
	ticket_ids TEXT NOT NULL DEFAULT '[]', -- JSON array
	cap_hit    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX rule_runs_rule ON rule_runs (rule_id, id);

-- No foreign key to tickets or rules: the record of what a rule made
-- outlives the rule.
CREATE TABLE rule_tickets (
	rule_id           TEXT NOT NULL,
	recommendation_id TEXT NOT NULL,
	ticket_id         TEXT NOT NULL,
	created_at        TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (rule_id, recommendation_id, ticket_id)
);
