-- Posture sources (Graph Secure Score tenants, ScubaGear and Prowler
-- results), every import with what it did, the records an import could not
-- map, and the daily scores the sources report.

CREATE TABLE posture_sources (
	id             TEXT COLLATE "C" PRIMARY KEY,
	kind           TEXT NOT NULL,
	name           TEXT NOT NULL,
	tenant_id      TEXT NOT NULL DEFAULT '',
	connector      BOOLEAN NOT NULL DEFAULT FALSE,
	client_id      TEXT NOT NULL DEFAULT '',
	client_secret  TEXT NOT NULL DEFAULT '', -- sealed by package secret
	token_url      TEXT NOT NULL DEFAULT '',
	graph_url      TEXT NOT NULL DEFAULT '',
	write_back     BOOLEAN NOT NULL DEFAULT FALSE,
	last_import_at TIMESTAMPTZ,
	last_error     TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMPTZ NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL,
	UNIQUE (kind, tenant_id)
);

CREATE TABLE posture_imports (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	source_id TEXT NOT NULL REFERENCES posture_sources (id) ON DELETE CASCADE,
	at        TIMESTAMPTZ NOT NULL,
	actor     TEXT NOT NULL,
	origin    TEXT NOT NULL,
	format    TEXT NOT NULL,
	file_name TEXT NOT NULL DEFAULT '',
	sha256    TEXT NOT NULL DEFAULT '',
	bytes     BIGINT NOT NULL DEFAULT 0,
	added     BIGINT NOT NULL DEFAULT 0,
	updated   BIGINT NOT NULL DEFAULT 0,
	unchanged BIGINT NOT NULL DEFAULT 0,
	retired   BIGINT NOT NULL DEFAULT 0,
	regressed BIGINT NOT NULL DEFAULT 0,
	unmapped  BIGINT NOT NULL DEFAULT 0,
	partial   BOOLEAN NOT NULL DEFAULT FALSE,
	warnings  TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	reported  TEXT NOT NULL DEFAULT '',   -- JSON of the source's own score, when it has one
	score     TEXT NOT NULL DEFAULT '',   -- JSON of the center's score of the source
	pass_rate TEXT NOT NULL DEFAULT ''    -- JSON of the pass rate, for tools without points
);

CREATE INDEX posture_imports_source ON posture_imports (source_id, id);

CREATE TABLE posture_unmapped (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	import_id BIGINT NOT NULL REFERENCES posture_imports (id) ON DELETE CASCADE,
	ref       TEXT NOT NULL,
	reason    TEXT NOT NULL,
	raw       BYTEA
);

CREATE INDEX posture_unmapped_import ON posture_unmapped (import_id, id);

CREATE TABLE posture_source_scores (
	source_id     TEXT NOT NULL REFERENCES posture_sources (id) ON DELETE CASCADE,
	day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
	current_score DOUBLE PRECISION NOT NULL,
	max_score     DOUBLE PRECISION NOT NULL,
	categories    TEXT NOT NULL DEFAULT '[]',
	raw           BYTEA,          -- the day's secureScore record, byte-for-byte
	PRIMARY KEY (source_id, day)
);

ALTER TABLE recommendations ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN source_status TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN unscored BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE recommendations ADD COLUMN retired_at TIMESTAMPTZ;
ALTER TABLE recommendations ADD COLUMN regressed_at TIMESTAMPTZ;

CREATE INDEX recommendations_source ON recommendations (source_id, external_id);
CREATE INDEX recommendations_regressed ON recommendations (regressed_at) WHERE regressed_at IS NOT NULL;
-- The score sums only counting actions, by tool (the catalog stops
-- counting once real data is in); the index covers what it reads.
DROP INDEX recommendations_score;
CREATE INDEX recommendations_score ON recommendations (source_tool, unscored, retired_at, source_id, category, state, max_score, current_score);
