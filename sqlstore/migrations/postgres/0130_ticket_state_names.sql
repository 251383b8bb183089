-- How each ticket state shows in the center, per connection: the label the
-- instance's choice list (sys_choice) gives, read at connect and on demand,
-- and the admin's own name for it, which wins.

CREATE TABLE ticket_state_names (
	connection_id TEXT NOT NULL,
	table_name    TEXT NOT NULL,              -- incident, change_request, problem
	state_value   TEXT NOT NULL,              -- the state field's integer, as text
	label         TEXT NOT NULL DEFAULT '',   -- the instance's label; '' when its list has none
	sequence      INTEGER NOT NULL DEFAULT 0, -- the instance's order
	custom_name   TEXT NOT NULL DEFAULT '',   -- the admin's name; '' for none
	PRIMARY KEY (connection_id, table_name, state_value)
);

-- When the labels were last read from each connection's instance.
CREATE TABLE ticket_state_refreshes (
	connection_id TEXT PRIMARY KEY,
	refreshed_at  TIMESTAMPTZ NOT NULL
);
