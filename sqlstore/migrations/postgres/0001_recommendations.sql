-- Improvement actions, their state history and the daily score.
-- Text that is sorted or compared uses the "C" collation so order is byte
-- order, the same as SQLite's.

CREATE TABLE recommendations (
	id                  TEXT COLLATE "C" PRIMARY KEY,
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
	max_score           DOUBLE PRECISION NOT NULL,
	current_score       DOUBLE PRECISION NOT NULL,
	state               TEXT NOT NULL,
	raw                 BYTEA,                      -- the source record, byte-for-byte
	created_by          TEXT NOT NULL,
	created_at          TIMESTAMPTZ NOT NULL,
	updated_at          TIMESTAMPTZ NOT NULL,
	-- Lower-cased in Go, so sorting and search behave the same on both back ends.
	title_key           TEXT COLLATE "C" NOT NULL,
	search_text         TEXT NOT NULL,
	-- Points still to win: what the "impact" sort orders by.
	impact              DOUBLE PRECISION GENERATED ALWAYS AS (
		CASE WHEN state IN ('to_address', 'planned') THEN max_score - LEAST(current_score, max_score) ELSE 0 END
	) STORED
);

CREATE INDEX recommendations_impact ON recommendations (impact DESC, id);
CREATE INDEX recommendations_title ON recommendations (title_key, id);
CREATE INDEX recommendations_updated ON recommendations (updated_at DESC, id);

CREATE TABLE state_changes (
	id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	recommendation_id TEXT COLLATE "C" NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
	from_state        TEXT NOT NULL,
	to_state          TEXT NOT NULL,
	note              TEXT NOT NULL DEFAULT '',
	changed_by        TEXT NOT NULL,
	changed_at        TIMESTAMPTZ NOT NULL
);

CREATE INDEX state_changes_recommendation ON state_changes (recommendation_id, id);

CREATE TABLE score_snapshots (
	day      TEXT PRIMARY KEY, -- YYYY-MM-DD, UTC
	score    TEXT NOT NULL,    -- JSON of scorebridge.Score
	taken_at TIMESTAMPTZ NOT NULL
);
