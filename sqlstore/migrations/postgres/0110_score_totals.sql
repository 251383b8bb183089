-- The score kept, not recomputed: sums of the score's columns per category,
-- source and state, kept by a trigger in the same transaction as every change
-- to an action, whoever writes it (the stores, imports, a migration), so
-- reading the score costs the same at 500 and 500,000 actions.
--
-- Sums are integer micro-points (the score times 10^6, rounded per action):
-- adding and later subtracting the same integer leaves nothing behind, where
-- floating-point sums would drift from a full recomputation over time. The
-- achieved score is clamped to [0, max] first, as scorebridge.EarnedScore
-- does; which states earn it stays Go's decision (scorebridge.ComputeScore).
--
-- Concurrent writers to the same (category, source, state) serialize on its
-- row, as they would on any counter; the upsert makes a new group safe when
-- two transactions create it together.

CREATE TABLE score_totals (
	category      TEXT NOT NULL,
	source        TEXT NOT NULL,
	state         TEXT NOT NULL,
	actions       BIGINT NOT NULL,
	max_micro     BIGINT NOT NULL,
	current_micro BIGINT NOT NULL,
	PRIMARY KEY (category, source, state)
);

CREATE FUNCTION score_micro(v DOUBLE PRECISION) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$ SELECT round(v * 1000000)::BIGINT $$;

INSERT INTO score_totals (category, source, state, actions, max_micro, current_micro)
SELECT category, source, state, COUNT(*),
       SUM(score_micro(max_score)),
       SUM(score_micro(LEAST(GREATEST(current_score, 0), max_score)))
FROM recommendations
GROUP BY category, source, state;

-- Statement-level triggers with transition tables: one statement changing
-- many actions (an import, a bulk fix) touches each group's row once, where a
-- row-level trigger would update it once per action and leave a chain of row
-- versions that every later update in the same transaction walks. Each adds
-- the net change per group (an action counted +1 where it is now, -1 where it
-- was); groups a statement leaves unchanged are not written.

CREATE FUNCTION recommendations_score_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO score_totals AS t (category, source, state, actions, max_micro, current_micro)
	SELECT category, source, state, COUNT(*), SUM(score_micro(max_score)),
	       SUM(score_micro(LEAST(GREATEST(current_score, 0), max_score)))
	FROM new_rows GROUP BY category, source, state
	ON CONFLICT (category, source, state) DO UPDATE SET
		actions = t.actions + excluded.actions,
		max_micro = t.max_micro + excluded.max_micro,
		current_micro = t.current_micro + excluded.current_micro;
	RETURN NULL;
END
$$;

CREATE FUNCTION recommendations_score_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE score_totals AS t SET
		actions = t.actions - d.actions,
		max_micro = t.max_micro - d.max_micro,
		current_micro = t.current_micro - d.current_micro
	FROM (SELECT category, source, state, COUNT(*) AS actions, SUM(score_micro(max_score)) AS max_micro,
	             SUM(score_micro(LEAST(GREATEST(current_score, 0), max_score))) AS current_micro
	      FROM old_rows GROUP BY category, source, state) AS d
	WHERE t.category = d.category AND t.source = d.source AND t.state = d.state;
	RETURN NULL;
END
$$;

CREATE FUNCTION recommendations_score_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO score_totals AS t (category, source, state, actions, max_micro, current_micro)
	SELECT category, source, state, SUM(n), SUM(m), SUM(c)
	FROM (
		SELECT category, source, state, 1 AS n, score_micro(max_score) AS m,
		       score_micro(LEAST(GREATEST(current_score, 0), max_score)) AS c
		FROM new_rows
		UNION ALL
		SELECT category, source, state, -1, -score_micro(max_score),
		       -score_micro(LEAST(GREATEST(current_score, 0), max_score))
		FROM old_rows
	) AS d
	GROUP BY category, source, state
	HAVING SUM(n) <> 0 OR SUM(m) <> 0 OR SUM(c) <> 0
	ON CONFLICT (category, source, state) DO UPDATE SET
		actions = t.actions + excluded.actions,
		max_micro = t.max_micro + excluded.max_micro,
		current_micro = t.current_micro + excluded.current_micro;
	RETURN NULL;
END
$$;

CREATE TRIGGER recommendations_score_insert AFTER INSERT ON recommendations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION recommendations_score_inserted();

CREATE TRIGGER recommendations_score_delete AFTER DELETE ON recommendations
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION recommendations_score_deleted();

CREATE TRIGGER recommendations_score_update AFTER UPDATE ON recommendations
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION recommendations_score_updated();
