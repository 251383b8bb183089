-- The score kept, not recomputed: sums of the score's columns per category,
-- source and state, kept by triggers in the same transaction as every change
-- to an action, whoever writes it (the stores, imports, a migration), so
-- reading the score costs the same at 500 and 500,000 actions.
--
-- Sums are integer micro-points (the score times 10^6, rounded per action):
-- adding and later subtracting the same integer leaves nothing behind, where
-- floating-point sums would drift from a full recomputation over time. The
-- achieved score is clamped to [0, max] first, as scorebridge.EarnedScore
-- does; which states earn it stays Go's decision (scorebridge.ComputeScore).

CREATE TABLE score_totals (
	category      TEXT NOT NULL,
	source        TEXT NOT NULL,
	state         TEXT NOT NULL,
	actions       INTEGER NOT NULL,
	max_micro     INTEGER NOT NULL,
	current_micro INTEGER NOT NULL,
	PRIMARY KEY (category, source, state)
);

INSERT INTO score_totals (category, source, state, actions, max_micro, current_micro)
SELECT category, source, state, COUNT(*),
       SUM(CAST(ROUND(max_score * 1000000) AS INTEGER)),
       SUM(CAST(ROUND(MIN(MAX(current_score, 0), max_score) * 1000000) AS INTEGER))
FROM recommendations
GROUP BY category, source, state;

CREATE TRIGGER recommendations_score_insert AFTER INSERT ON recommendations
BEGIN
	INSERT INTO score_totals (category, source, state, actions, max_micro, current_micro)
	VALUES (NEW.category, NEW.source, NEW.state, 1,
	        CAST(ROUND(NEW.max_score * 1000000) AS INTEGER),
	        CAST(ROUND(MIN(MAX(NEW.current_score, 0), NEW.max_score) * 1000000) AS INTEGER))
	ON CONFLICT (category, source, state) DO UPDATE SET
		actions = actions + 1,
		max_micro = max_micro + excluded.max_micro,
		current_micro = current_micro + excluded.current_micro;
END;

CREATE TRIGGER recommendations_score_delete AFTER DELETE ON recommendations
BEGIN
	UPDATE score_totals SET
		actions = actions - 1,
		max_micro = max_micro - CAST(ROUND(OLD.max_score * 1000000) AS INTEGER),
		current_micro = current_micro - CAST(ROUND(MIN(MAX(OLD.current_score, 0), OLD.max_score) * 1000000) AS INTEGER)
	WHERE category = OLD.category AND source = OLD.source AND state = OLD.state;
END;

CREATE TRIGGER recommendations_score_update
AFTER UPDATE OF category, source, state, max_score, current_score ON recommendations
BEGIN
	UPDATE score_totals SET
		actions = actions - 1,
		max_micro = max_micro - CAST(ROUND(OLD.max_score * 1000000) AS INTEGER),
		current_micro = current_micro - CAST(ROUND(MIN(MAX(OLD.current_score, 0), OLD.max_score) * 1000000) AS INTEGER)
	WHERE category = OLD.category AND source = OLD.source AND state = OLD.state;
	INSERT INTO score_totals (category, source, state, actions, max_micro, current_micro)
	VALUES (NEW.category, NEW.source, NEW.state, 1,
	        CAST(ROUND(NEW.max_score * 1000000) AS INTEGER),
	        CAST(ROUND(MIN(MAX(NEW.current_score, 0), NEW.max_score) * 1000000) AS INTEGER))
	ON CONFLICT (category, source, state) DO UPDATE SET
		actions = actions + 1,
		max_micro = max_micro + excluded.max_micro,
		current_micro = current_micro + excluded.current_micro;
END;
