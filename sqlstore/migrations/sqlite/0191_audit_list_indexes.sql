-- The audit log's list, newest first (ORDER BY id DESC), by each filter the
-- page and the API offer: an index per filter in the list's order, so a page
-- of one actor's, one action's or one outcome's events reads only that page
-- instead of every event since the first. (action, id) replaces (action,
-- at), which made a planner sort an action's whole window; the actor and
-- address ones stay for the sign-in throttle's counts over a time window.

CREATE INDEX audit_events_actor_id ON audit_events (actor, id);
CREATE INDEX audit_events_action_id ON audit_events (action, id);
CREATE INDEX audit_events_outcome_id ON audit_events (outcome, id);

DROP INDEX audit_events_action_at;
