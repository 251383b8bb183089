-- The score reads only these four columns of every action. A covering index
-- lets the database sum them without reading whole rows, whose long text
-- (description, remediation, the raw source record) dominates their size.
CREATE INDEX recommendations_score ON recommendations (category, state, max_score, current_score);
