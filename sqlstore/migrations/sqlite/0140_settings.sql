-- The center's settings, one row per setting changed from its default
-- (the definitions and defaults are in the domain package's SettingDefs).

CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	updated_by TEXT NOT NULL
);
