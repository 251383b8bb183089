package tracking

import (
	"context"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// Store is what tracking keeps in the database. sqlstore.TrackingStore
// implements it; a change is stored with its history, audit event and the
// sync watermark in one transaction.
type Store interface {
	// Watermark returns the sys_updated_on the last stored page reached
	// (UTC, Table API layout), "" before the first sync.
	Watermark(ctx context.Context, connectionID string) (string, error)
	// ApplyChanges stores the changes newer than what each ticket holds
	// and moves the watermark (when not "") in the same transaction.
	ApplyChanges(ctx context.Context, connectionID string, changes []scorebridge.RecordChange, name sqlstore.StateNamer, watermark string) ([]sqlstore.AppliedChange, error)
	// SetDrift marks or clears a ticket's drift.
	SetDrift(ctx context.Context, ticketID string, drift bool) error
	// StateNames returns a connection's instance labels and renames.
	StateNames(ctx context.Context, connectionID string) (*scorebridge.StateNames, error)
	// StoreStateLabels replaces the connection's instance labels.
	StoreStateLabels(ctx context.Context, connectionID string, labels []scorebridge.StateLabel, at time.Time) error
	// RenameStates replaces the connection's renames, audited with them.
	RenameStates(ctx context.Context, connectionID string, renames []scorebridge.StateRename) error
	// PushSecret returns the connection's push secret, made on first use.
	PushSecret(ctx context.Context, connectionID string) (string, error)
	// UseSignature records a push signature; ECONFLICT when seen before.
	UseSignature(ctx context.Context, connectionID, signature string, forgetBefore time.Time) error
	// FindUnseen returns sent tickets of the connection no sync found on
	// the instance since before (those of no connection too, when
	// withDefault), least recently seen first.
	FindUnseen(ctx context.Context, connectionID string, withDefault bool, before time.Time, limit int) ([]sqlstore.UnseenTicket, error)
	// MarkSeen records that the tickets' records were found.
	MarkSeen(ctx context.Context, ticketIDs []string) error
	// FindTicketTracking returns a ticket's tracked fields and history.
	FindTicketTracking(ctx context.Context, ticketID string) (*scorebridge.TicketTracking, error)
	// Summary counts tickets by type and state.
	Summary(ctx context.Context) (map[scorebridge.TicketType]*scorebridge.TicketTypeSummary, error)
}

var _ Store = (*sqlstore.TrackingStore)(nil)
