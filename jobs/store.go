package jobs

import (
	"context"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TicketStore is what the ticket service and the ticket worker keep in the
// database: ticket requests, what became of them, and their exchanges with
// the instance. sqlstore.TicketStore implements it. New and re-queued
// tickets are written in one transaction with their jobs, through enqueue.
type TicketStore interface {
	// InsertTickets stores tickets as queued and calls enqueue in the same
	// transaction.
	InsertTickets(ctx context.Context, tickets []*scorebridge.Ticket, enqueue sqlstore.EnqueueFunc) error
	// RequeueTicket turns a failed ticket back to queued and calls enqueue
	// in the same transaction. Returns ENOTFOUND, and ECONFLICT when the
	// ticket has not failed.
	RequeueTicket(ctx context.Context, id string, enqueue sqlstore.EnqueueFunc) error
	// FindTicketByID returns ENOTFOUND.
	FindTicketByID(ctx context.Context, id string) (*scorebridge.Ticket, error)
	// FindTickets returns the tickets matching filter, newest first.
	FindTickets(ctx context.Context, filter scorebridge.TicketFilter) ([]*scorebridge.Ticket, error)
	FindTicketPage(ctx context.Context, filter scorebridge.TicketFilter) ([]*scorebridge.Ticket, string, error)

	// MarkTicketSent records the instance's record for a ticket and, in
	// the same transaction, its ticket.send audit event (nil for none). A
	// ticket already sent is left as it is.
	MarkTicketSent(ctx context.Context, id string, r sqlstore.TicketResult, event *scorebridge.AuditEvent) error
	// MarkTicketFailed records why a ticket cannot be made.
	MarkTicketFailed(ctx context.Context, id, reason string) error
	// SetTicketWaiting records why a queued ticket waits ("" when it no
	// longer does).
	SetTicketWaiting(ctx context.Context, id, reason string) error
	// CreateMayExist reports whether a create was sent (or about to be)
	// for the ticket, so the worker looks the record up before creating.
	CreateMayExist(ctx context.Context, id string) (bool, error)

	// AddTicketAudit appends one exchange to a ticket's audit.
	AddTicketAudit(ctx context.Context, e *scorebridge.TicketAuditEntry) error
	// FindTicketAudit returns a ticket's audit, oldest first. Returns
	// ENOTFOUND.
	FindTicketAudit(ctx context.Context, id string) ([]*scorebridge.TicketAuditEntry, error)

	// OverdueNoted reports whether the ticket's overdue work note was
	// added already.
	OverdueNoted(ctx context.Context, id string) (bool, error)
	// MarkOverdueNoted records the note with its audit event, once.
	MarkOverdueNoted(ctx context.Context, id string, event *scorebridge.AuditEvent) error
}

var _ TicketStore = (*sqlstore.TicketStore)(nil)
