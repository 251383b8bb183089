-- The home page's SLA figures kept, not recomputed: the Overdue card and
-- the time to close per category read every ticket on each request (at
-- 100,000 tickets two thirds of the home page's CPU). Both are now kept by
-- triggers in the same transaction as every change to a ticket, whoever
-- writes it, so reading them costs the same at 100 and 100,000 tickets. The
-- triggers are per statement, with the statement's rows as transition
-- tables, and look only at the rows whose relevant columns changed.

-- Open sent tickets per due date (a UTC day): the overdue count is the sum
-- below a date, a few hundred rows at most however many tickets there are.
-- The condition is sqlstore.overdueWhere's.
CREATE TABLE ticket_due_counts (
	due_date TEXT PRIMARY KEY,
	tickets  BIGINT NOT NULL
);

INSERT INTO ticket_due_counts (due_date, tickets)
SELECT due_date, COUNT(*) FROM tickets
WHERE status = 'sent' AND due_date <> '' AND state_class IN ('', 'open')
GROUP BY due_date;

-- Finished tickets per category and close-time bucket: how long a sent
-- ticket took from being sent to being resolved (or closed, for a change
-- request, which has no resolved state), to the hour under two days and to
-- the tenth of a day after, which is how the page shows it. A grouped ticket
-- counts once in each category it covers. The median and 90th percentile
-- are read from the buckets (scorebridge.CloseTimesFromBuckets). A time the
-- instance did not write as a date-time, or one before the ticket was sent,
-- is left out.
CREATE TABLE ticket_close_buckets (
	category TEXT NOT NULL,
	bucket   BIGINT NOT NULL, -- seconds, the bucket's lower bound
	tickets  BIGINT NOT NULL,
	PRIMARY KEY (category, bucket)
);

-- ticket_close_rows is one finished ticket's categories (once each) with
-- its bucket, none for a ticket that is not finished.
CREATE FUNCTION ticket_close_rows(t tickets) RETURNS TABLE (category TEXT, bucket BIGINT)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	done TIMESTAMPTZ;
	s    BIGINT;
	b    BIGINT;
BEGIN
	IF t.status <> 'sent' OR t.sent_at IS NULL OR t.state_class NOT IN ('resolved', 'closed') THEN
		RETURN;
	END IF;
	BEGIN
		done := (CASE WHEN t.resolved_at <> '' THEN t.resolved_at ELSE t.closed_at END)::timestamp AT TIME ZONE 'UTC';
		s := floor(extract(epoch FROM done) - floor(extract(epoch FROM t.sent_at)))::bigint;
		IF s < 0 THEN
			RETURN;
		END IF;
		b := CASE WHEN s < 172800 THEN s / 3600 * 3600 ELSE s / 8640 * 8640 END;
		RETURN QUERY SELECT DISTINCT COALESCE(a->>'category', ''), b
			FROM jsonb_array_elements(t.actions::jsonb) AS a WHERE jsonb_typeof(a) = 'object';
	EXCEPTION WHEN others THEN
		RETURN; -- not a date-time, or actions that are not a list: left out
	END;
END
$$;

INSERT INTO ticket_close_buckets (category, bucket, tickets)
SELECT r.category, r.bucket, COUNT(*) FROM tickets AS t, ticket_close_rows(t) AS r
GROUP BY r.category, r.bucket;

CREATE FUNCTION tickets_sla_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO ticket_due_counts AS c (due_date, tickets)
		SELECT due_date, COUNT(*) FROM new_rows
		WHERE status = 'sent' AND due_date <> '' AND state_class IN ('', 'open')
		GROUP BY due_date
		ON CONFLICT (due_date) DO UPDATE SET tickets = c.tickets + excluded.tickets;
		INSERT INTO ticket_close_buckets AS c (category, bucket, tickets)
		SELECT r.category, r.bucket, COUNT(*) FROM new_rows AS n, ticket_close_rows(n) AS r
		GROUP BY r.category, r.bucket
		ON CONFLICT (category, bucket) DO UPDATE SET tickets = c.tickets + excluded.tickets;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE ticket_due_counts AS c SET tickets = c.tickets - d.n
		FROM (SELECT due_date, COUNT(*) AS n FROM old_rows
		      WHERE status = 'sent' AND due_date <> '' AND state_class IN ('', 'open')
		      GROUP BY due_date) AS d
		WHERE c.due_date = d.due_date;
		UPDATE ticket_close_buckets AS c SET tickets = c.tickets - d.n
		FROM (SELECT r.category, r.bucket, COUNT(*) AS n FROM old_rows AS o, ticket_close_rows(o) AS r
		      GROUP BY r.category, r.bucket) AS d
		WHERE c.category = d.category AND c.bucket = d.bucket;
	ELSE
		INSERT INTO ticket_due_counts AS c (due_date, tickets)
		SELECT due_date, SUM(n) FROM (
			SELECT n.due_date, 1 AS n FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
			WHERE (o.status, o.due_date, o.state_class) IS DISTINCT FROM (n.status, n.due_date, n.state_class)
			  AND n.status = 'sent' AND n.due_date <> '' AND n.state_class IN ('', 'open')
			UNION ALL
			SELECT o.due_date, -1 FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
			WHERE (o.status, o.due_date, o.state_class) IS DISTINCT FROM (n.status, n.due_date, n.state_class)
			  AND o.status = 'sent' AND o.due_date <> '' AND o.state_class IN ('', 'open')
		) AS d
		GROUP BY due_date
		HAVING SUM(n) <> 0
		ON CONFLICT (due_date) DO UPDATE SET tickets = c.tickets + excluded.tickets;
		INSERT INTO ticket_close_buckets AS c (category, bucket, tickets)
		SELECT category, bucket, SUM(n) FROM (
			SELECT r.category, r.bucket, 1 AS n
			FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id, ticket_close_rows(n) AS r
			WHERE (o.status, o.sent_at, o.state_class, o.resolved_at, o.closed_at, o.actions)
			      IS DISTINCT FROM (n.status, n.sent_at, n.state_class, n.resolved_at, n.closed_at, n.actions)
			UNION ALL
			SELECT r.category, r.bucket, -1
			FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id, ticket_close_rows(o) AS r
			WHERE (o.status, o.sent_at, o.state_class, o.resolved_at, o.closed_at, o.actions)
			      IS DISTINCT FROM (n.status, n.sent_at, n.state_class, n.resolved_at, n.closed_at, n.actions)
		) AS d
		GROUP BY category, bucket
		HAVING SUM(n) <> 0
		ON CONFLICT (category, bucket) DO UPDATE SET tickets = c.tickets + excluded.tickets;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER tickets_sla_insert AFTER INSERT ON tickets
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION tickets_sla_changed();

CREATE TRIGGER tickets_sla_delete AFTER DELETE ON tickets
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION tickets_sla_changed();

CREATE TRIGGER tickets_sla_update AFTER UPDATE ON tickets
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION tickets_sla_changed();
