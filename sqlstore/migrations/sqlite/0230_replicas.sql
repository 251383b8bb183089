-- Each running replica's heartbeat, as on PostgreSQL. seen_at is fixed-width
-- UTC text (sqlstore's timestamps), so text comparison orders it. One center
-- runs on a SQLite file, so it needs no heartbeats; the table keeps the
-- schema the same on both.

CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
