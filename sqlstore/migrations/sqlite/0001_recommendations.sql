-- Improvement actions, their state history and the daily score.
-- Timestamps are fixed-width UTC text (2006-01-02T15:04:05.000000Z) so text
-- order is time order.

CREATE TABLE recommendations (
	id                  TEXT PRIMARY KEY,
	title               TEXT NOT NULL,
	description         TEXT NOT NULL DEFAULT '',
	remediation         TEXT NOT NULL DEFAULT '',
	category            TEXT NOT NULL,
	source              TEXT NOT NULL,
	source_tool         TEXT NOT NULL DEFAULT '',
	service             TEXT NOT NULL DEFAULT '',
	tier                TEXT NOT NULL DEFAULT '',
	user_impact         TEXT NOT NULL DEFAULT '',
	implementation_cost TEXT NOT NULL DEFAULT '',
	threats             TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	max_score           REAL NOT NULL,
	current_score       REAL NOT NULL,
	state               TEXT NOT NULL,
	raw                 BLOB,                       -- the source record, byte-for-byte
	created_by          TEXT NOT NULL,
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL,
	-- Lower-cased in Go, so sorting and search behave the same on both back ends.
	title_key           TEXT NOT NULL,
	search_text         TEXT NOT NULL,
	-- Points still to win: what the "impact" sort orders by.
	impact              REAL GENERATED ALWAYS AS (
		CASE WHEN state IN ('to_address', 'planned') THEN max_score - MIN(current_score, max_score) ELSE 0 END
	) STORED
);

CREATE INDEX recommendations_impact ON recommendations (impact DESC, id);
CREATE INDEX recommendations_title ON recommendations (title_key, id);
CREATE INDEX recommendations_updated ON recommendations (updated_at DESC, id);

CREATE TABLE state_changes (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	recommendation_id TEXT NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
	from_state        TEXT NOT NULL,
	to_state          TEXT NOT NULL,
	note              TEXT NOT NULL DEFAULT '',
	changed_by        TEXT NOT NULL,
	changed_at        TEXT NOT NULL
);

CREATE INDEX state_changes_recommendation ON state_changes (recommendation_id, id);

CREATE TABLE score_snapshots (
	day      TEXT PRIMARY KEY, -- YYYY-MM-DD, UTC
	score    TEXT NOT NULL,    -- JSON of scorebridge.Score
	taken_at TEXT NOT NULL
);
