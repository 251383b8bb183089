// Package notify tells people of what needs them: a connection that needs
// authorization, a ticket that failed for good, a regressed control, a
// drifted ticket, overdue tickets, a failed import. Events are gathered by
// root cause into groups per target and period, so one broken connection
// is one message however many tickets wait behind it; a durable River job
// (package jobs) delivers each group, or each digest, by email (SMTP with
// STARTTLS) or a signed webhook, with retries and backoff.
package notify
