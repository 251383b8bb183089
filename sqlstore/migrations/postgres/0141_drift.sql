-- Drift and what was done about it, the link between a drifted ticket and
-- the new one that follows it, when a sync last found each record on the
-- instance (to notice deletions), and when the center asked to resolve a
-- ticket whose action was completed.

ALTER TABLE tickets ADD COLUMN drift_at TIMESTAMPTZ;                          -- when the current drift was found
ALTER TABLE tickets ADD COLUMN drift_reason TEXT NOT NULL DEFAULT '';     -- finished, regressed
ALTER TABLE tickets ADD COLUMN drift_handling TEXT NOT NULL DEFAULT '';   -- '', reopen, new: asked once per drift
ALTER TABLE tickets ADD COLUMN drift_handled_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN drift_handled_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN follows_ticket_id TEXT NOT NULL DEFAULT '';     -- the drifted ticket this one follows
ALTER TABLE tickets ADD COLUMN followed_by_ticket_id TEXT NOT NULL DEFAULT ''; -- the new linked ticket that follows this one
ALTER TABLE tickets ADD COLUMN seen_at TIMESTAMPTZ;                           -- when a sync last found the record on the instance
ALTER TABLE tickets ADD COLUMN resolve_requested_at TIMESTAMPTZ;              -- when the center asked ServiceNow to resolve it

CREATE INDEX tickets_drift_list ON tickets (drift, drift_at DESC, id);
CREATE INDEX tickets_seen ON tickets (status, seen_at);
