-- The pace towards each ServiceNow connection, shared by every replica: the
-- moment the next request may start. Replicas take slots from this row with
-- one atomic UPDATE each, so together they never send faster than the
-- instance's rate, and a 429 seen by one holds back all.

CREATE TABLE servicenow_pace (
    connection_id TEXT PRIMARY KEY,
    next_at TIMESTAMPTZ NOT NULL
);
