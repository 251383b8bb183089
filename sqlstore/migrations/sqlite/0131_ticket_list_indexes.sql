-- The all tickets list reads only the rows of the page it shows, in its
-- order, whichever filter is on: by type (a home page card's "View all"), by
-- type and status, by type and state (a card's count), by assignee, and in
-- the other two orders. The home page's cards count from one covering index
-- and list a type's latest from tickets_type_created.
-- tickets_type_state_created serves what tickets_type_state did.

CREATE INDEX tickets_type_created ON tickets (type, created_at DESC, id);
CREATE INDEX tickets_type_status_created ON tickets (type, status, created_at DESC, id);
CREATE INDEX tickets_type_state_created ON tickets (type, state, created_at DESC, id);
CREATE INDEX tickets_assignee_created ON tickets (assigned_to, created_at DESC, id);
CREATE INDEX tickets_updated ON tickets (updated_at DESC, id);
CREATE INDEX tickets_name ON tickets (name, id);
CREATE INDEX tickets_summary ON tickets (status, type, state, connection_id, state_class);
DROP INDEX tickets_type_state;
