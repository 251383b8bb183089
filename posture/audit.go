package posture

import (
	"fmt"

	"github.com/scorebridge/scorebridge"
)

// importEvent is the audit event of an import, built from what the import
// did; the store writes it in the import's own transaction, so the log
// names exactly what was committed.
func importEvent(src *scorebridge.PostureSource, imp *scorebridge.Import) *scorebridge.AuditEvent {
	detail := map[string]any{
		"source": src.ID, "kind": string(src.Kind), "tenantId": src.TenantID, "origin": imp.Origin, "format": imp.Format,
		"added": imp.Added, "updated": imp.Updated, "unchanged": imp.Unchanged, "retired": imp.Retired,
		"regressed": imp.Regressed, "unmapped": imp.Unmapped, "partial": imp.Partial, "sha256": imp.SHA256,
	}
	if imp.FileName != "" {
		detail["file"] = imp.FileName
	}
	return &scorebridge.AuditEvent{
		Action: scorebridge.AuditImport, Target: fmt.Sprintf("import %d", imp.ID), Actor: imp.Actor, Detail: detail,
	}
}

// sourceErrorEvent is the audit event of a connector run (or write-back)
// that failed, written with the error kept on the source.
func sourceErrorEvent(sourceID, message string) *scorebridge.AuditEvent {
	return &scorebridge.AuditEvent{
		Action: scorebridge.AuditImport, Outcome: scorebridge.OutcomeFailure, Target: sourceID,
		Detail: map[string]any{"error": message},
	}
}
