-- An action's history keeps edits of its current score too: the score
-- before and after, NULL when the score did not change.
ALTER TABLE state_changes ADD COLUMN from_score DOUBLE PRECISION;
ALTER TABLE state_changes ADD COLUMN to_score DOUBLE PRECISION;
