-- Posture sources (Graph Secure Score tenants, ScubaGear and Prowler
-- results), every import with what it did, the records an import could not
-- map, and the daily scores the sources report.

CREATE TABLE posture_sources (
	id             TEXT PRIMARY KEY,
	kind           TEXT NOT NULL,
	name           TEXT NOT NULL,
	tenant_id      TEXT NOT NULL DEFAULT '',
	connector      INTEGER NOT NULL DEFAULT 0,
	client_id      TEXT NOT NULL DEFAULT '',
	client_secret  TEXT NOT NULL DEFAULT '', -- sealed by package secret
	token_url      TEXT NOT NULL DEFAULT '',
	graph_url      TEXT NOT NULL DEFAULT '',
	write_back     INTEGER NOT NULL DEFAULT 0,
	last_import_at TEXT,
	last_error     TEXT NOT NULL DEFAULT '',
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL,
	UNIQUE (kind, tenant_id)
);

CREATE TABLE posture_imports (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	source_id TEXT NOT NULL REFERENCES posture_sources (id) ON DELETE CASCADE,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL,
	origin    TEXT NOT NULL,
	format    TEXT NOT NULL,
	file_name TEXT NOT NULL DEFAULT '',
	sha256    TEXT NOT NULL DEFAULT '',
	bytes     INTEGER NOT NULL DEFAULT 0,
	added     INTEGER NOT NULL DEFAULT 0,
	updated   INTEGER NOT NULL DEFAULT 0,
	unchanged INTEGER NOT NULL DEFAULT 0,
	retired   INTEGER NOT NULL DEFAULT 0,
	regressed INTEGER NOT NULL DEFAULT 0,
	unmapped  INTEGER NOT NULL DEFAULT 0,
	partial   INTEGER NOT NULL DEFAULT 0,
	warnings  TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	reported  TEXT NOT NULL DEFAULT '',   -- JSON of the source's own score, when it has one
	score     TEXT NOT NULL DEFAULT '',   -- JSON of the center's score of the source
	pass_rate TEXT NOT NULL DEFAULT ''    -- JSON of the pass rate, for tools without points
);

CREATE INDEX posture_imports_source ON posture_imports (source_id, id);

CREATE TABLE posture_unmapped (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	import_id INTEGER NOT NULL REFERENCES posture_imports (id) ON DELETE CASCADE,
	ref       TEXT NOT NULL,
	reason    TEXT NOT NULL,
	raw       BLOB
);

CREATE INDEX posture_unmapped_import ON posture_unmapped (import_id, id);

CREATE TABLE posture_source_scores (
	source_id     TEXT NOT NULL REFERENCES posture_sources (id) ON DELETE CASCADE,
	day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
	current_score REAL NOT NULL,
	max_score     REAL NOT NULL,
	categories    TEXT NOT NULL DEFAULT '[]',
	raw           BLOB,          -- the day's secureScore record, byte-for-byte
	PRIMARY KEY (source_id, day)
);

ALTER TABLE recommendations ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN source_status TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN unscored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recommendations ADD COLUMN retired_at TEXT;
ALTER TABLE recommendations ADD COLUMN regressed_at TEXT;

CREATE INDEX recommendations_source ON recommendations (source_id, external_id);
CREATE INDEX recommendations_regressed ON recommendations (regressed_at) WHERE regressed_at IS NOT NULL;
-- The score sums only counting actions, by tool (the catalog stops
-- counting once real data is in); the index covers what it reads.
DROP INDEX recommendations_score;
CREATE INDEX recommendations_score ON recommendations (source_tool, unscored, retired_at, source_id, category, state, max_score, current_score);
