-- The home page's SLA figures kept, not recomputed: the Overdue card and
-- the time to close per category read every ticket on each request (at
-- 100,000 tickets two thirds of the home page's CPU). Both are now kept by
-- triggers in the same transaction as every change to a ticket, whoever
-- writes it, so reading them costs the same at 100 and 100,000 tickets.

-- Open sent tickets per due date (a UTC day): the overdue count is the sum
-- below a date, a few hundred rows at most however many tickets there are.
-- The condition is sqlstore.overdueWhere's.
CREATE TABLE ticket_due_counts (
	due_date TEXT PRIMARY KEY,
	tickets  INTEGER NOT NULL
);

INSERT INTO ticket_due_counts (due_date, tickets)
SELECT due_date, COUNT(*) FROM tickets
WHERE status = 'sent' AND due_date <> '' AND state_class IN ('', 'open')
GROUP BY due_date;

CREATE TRIGGER tickets_due_insert AFTER INSERT ON tickets
WHEN NEW.status = 'sent' AND NEW.due_date <> '' AND NEW.state_class IN ('', 'open')
BEGIN
	INSERT INTO ticket_due_counts (due_date, tickets) VALUES (NEW.due_date, 1)
	ON CONFLICT (due_date) DO UPDATE SET tickets = tickets + 1;
END;

CREATE TRIGGER tickets_due_delete AFTER DELETE ON tickets
WHEN OLD.status = 'sent' AND OLD.due_date <> '' AND OLD.state_class IN ('', 'open')
BEGIN
	UPDATE ticket_due_counts SET tickets = tickets - 1 WHERE due_date = OLD.due_date;
END;

CREATE TRIGGER tickets_due_update AFTER UPDATE OF status, due_date, state_class ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.due_date IS NOT NEW.due_date OR OLD.state_class IS NOT NEW.state_class
BEGIN
	UPDATE ticket_due_counts SET tickets = tickets - 1
	WHERE due_date = OLD.due_date AND OLD.status = 'sent' AND OLD.due_date <> '' AND OLD.state_class IN ('', 'open');
	INSERT INTO ticket_due_counts (due_date, tickets)
	SELECT NEW.due_date, 1 WHERE NEW.status = 'sent' AND NEW.due_date <> '' AND NEW.state_class IN ('', 'open')
	ON CONFLICT (due_date) DO UPDATE SET tickets = tickets + 1;
END;

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
	bucket   INTEGER NOT NULL, -- seconds, the bucket's lower bound
	tickets  INTEGER NOT NULL,
	PRIMARY KEY (category, bucket)
);

-- Each finished ticket's close time in seconds, then its categories (once
-- each, with DISTINCT where they are read) with its bucket; the triggers
-- read one ticket's rows through its primary key.
CREATE VIEW ticket_close_seconds AS
SELECT id, actions,
       CAST(strftime('%s', CASE WHEN resolved_at <> '' THEN resolved_at ELSE closed_at END) AS INTEGER)
       - CAST(strftime('%s', sent_at) AS INTEGER) AS seconds
FROM tickets
WHERE status = 'sent' AND sent_at IS NOT NULL AND state_class IN ('resolved', 'closed');

CREATE VIEW ticket_close_rows AS
SELECT c.id AS ticket_id, COALESCE(json_extract(a.value, '$.category'), '') AS category,
       CASE WHEN c.seconds < 172800 THEN c.seconds / 3600 * 3600 ELSE c.seconds / 8640 * 8640 END AS bucket
FROM ticket_close_seconds AS c, json_each(CASE WHEN json_valid(c.actions) THEN c.actions ELSE '[]' END) AS a
WHERE c.seconds IS NOT NULL AND c.seconds >= 0 AND a.type = 'object';

INSERT INTO ticket_close_buckets (category, bucket, tickets)
SELECT category, bucket, COUNT(*) FROM (SELECT DISTINCT ticket_id, category, bucket FROM ticket_close_rows) GROUP BY category, bucket;

CREATE TRIGGER tickets_close_insert AFTER INSERT ON tickets
WHEN NEW.status = 'sent' AND NEW.sent_at IS NOT NULL AND NEW.state_class IN ('resolved', 'closed')
BEGIN
	INSERT INTO ticket_close_buckets (category, bucket, tickets)
	SELECT DISTINCT category, bucket, 1 FROM ticket_close_rows WHERE ticket_id = NEW.id
	ON CONFLICT (category, bucket) DO UPDATE SET tickets = tickets + 1;
END;

CREATE TRIGGER tickets_close_delete BEFORE DELETE ON tickets
WHEN OLD.status = 'sent' AND OLD.sent_at IS NOT NULL AND OLD.state_class IN ('resolved', 'closed')
BEGIN
	UPDATE ticket_close_buckets SET tickets = tickets - 1
	WHERE (category, bucket) IN (SELECT category, bucket FROM ticket_close_rows WHERE ticket_id = OLD.id);
END;

-- An update takes the ticket's old buckets out before the row changes and
-- puts its new ones in after.
CREATE TRIGGER tickets_close_update_before BEFORE UPDATE OF status, sent_at, state_class, resolved_at, closed_at, actions ON tickets
WHEN OLD.status = 'sent' AND OLD.sent_at IS NOT NULL AND OLD.state_class IN ('resolved', 'closed')
BEGIN
	UPDATE ticket_close_buckets SET tickets = tickets - 1
	WHERE (category, bucket) IN (SELECT category, bucket FROM ticket_close_rows WHERE ticket_id = OLD.id);
END;

CREATE TRIGGER tickets_close_update_after AFTER UPDATE OF status, sent_at, state_class, resolved_at, closed_at, actions ON tickets
WHEN NEW.status = 'sent' AND NEW.sent_at IS NOT NULL AND NEW.state_class IN ('resolved', 'closed')
BEGIN
	INSERT INTO ticket_close_buckets (category, bucket, tickets)
	SELECT DISTINCT category, bucket, 1 FROM ticket_close_rows WHERE ticket_id = NEW.id
	ON CONFLICT (category, bucket) DO UPDATE SET tickets = tickets + 1;
END;
