-- Each running replica's heartbeat: when its job runner last wrote here, in
-- the database's time so the replicas' own clocks do not matter. A replica
-- whose row has gone stale has stopped working its jobs (it cancels them
-- when its heartbeats fail), so the others take its running jobs over.

CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
