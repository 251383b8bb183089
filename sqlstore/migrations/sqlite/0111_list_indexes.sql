-- Every list filter with its order, so a page reads only the rows it shows
-- instead of scanning and sorting a whole table: the tickets list by status
-- (146 ms for one ticket at 100,000 before), the actions list by category,
-- by state and by source in each of its three orders.

CREATE INDEX tickets_status_created ON tickets (status, created_at DESC, id);

CREATE INDEX recommendations_category_impact ON recommendations (category, impact DESC, id);
CREATE INDEX recommendations_category_title ON recommendations (category, title_key, id);
CREATE INDEX recommendations_category_updated ON recommendations (category, updated_at DESC, id);
CREATE INDEX recommendations_state_impact ON recommendations (state, impact DESC, id);
CREATE INDEX recommendations_state_title ON recommendations (state, title_key, id);
CREATE INDEX recommendations_state_updated ON recommendations (state, updated_at DESC, id);
CREATE INDEX recommendations_source_impact ON recommendations (source, impact DESC, id);
CREATE INDEX recommendations_source_title ON recommendations (source, title_key, id);
CREATE INDEX recommendations_source_updated ON recommendations (source, updated_at DESC, id);
