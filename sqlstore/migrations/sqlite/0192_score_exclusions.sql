-- The score leaves out unscored and retired actions (and the sample catalog
-- once real data is imported). Those are few, but finding them read the
-- whole covering score index on every home page: 50,000 entries at 50,000
-- actions. An index per condition finds just them.

CREATE INDEX recommendations_unscored ON recommendations (unscored);
CREATE INDEX recommendations_retired ON recommendations (id) WHERE retired_at IS NOT NULL;
