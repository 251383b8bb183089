package sqlstore

import (
	"context"

	"github.com/scorebridge/scorebridge"
)

// auditInTx writes the audit event of a change inside the change's own
// transaction, so the two are committed together or not at all. A nil event
// writes nothing. The address defaults to the one the request came from.
func auditInTx(ctx context.Context, tx *tx, e *scorebridge.AuditEvent) error {
	if e == nil {
		return nil
	}
	if e.Address == "" {
		e.Address = scorebridge.AddressFromContext(ctx)
	}
	return insertAuditEvent(ctx, tx, e)
}
