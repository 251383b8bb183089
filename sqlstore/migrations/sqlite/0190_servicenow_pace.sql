-- The pace towards each ServiceNow connection: the moment the next request
-- may start, in Unix microseconds. Kept in the database like on PostgreSQL,
-- where replicas share it; here the one writer takes each slot in turn.

CREATE TABLE servicenow_pace (
    connection_id TEXT PRIMARY KEY,
    next_at INTEGER NOT NULL
);
