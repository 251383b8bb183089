package tracking

import (
	"context"
	"errors"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// checkUnseen looks for tracked records no sync has found lately, by
// sys_id, a batch per query (sys_idIN...), and marks those the instance no
// longer has as deleted. It finds deletions where sys_audit_delete cannot
// be read: on a real instance that table is admin-only, and the
// integration user has itil. A query the instance refuses falls back to
// one GET per record, where a 404 is the deletion.
func (s *Service) checkUnseen(ctx context.Context, client *servicenow.Client, connID string, res *scorebridge.SyncResult) (int, error) {
	unseen, err := s.cfg.Store.FindUnseen(ctx, connID, s.ownsUnnamed(ctx, connID), s.cfg.Now().Add(-s.cfg.UnseenAfter), s.cfg.UnseenPerSync)
	if err != nil || len(unseen) == 0 {
		return 0, err
	}
	deleted := 0
	for start := 0; start < len(unseen); start += s.cfg.UnseenBatch {
		batch := unseen[start:min(start+s.cfg.UnseenBatch, len(unseen))]
		ids := make([]string, len(batch))
		for i, u := range batch {
			ids[i] = u.SysID
		}
		res.Calls++
		recs, _, err := client.List(ctx, "task", servicenow.ListOptions{Query: "sys_idIN" + strings.Join(ids, ","), Fields: []string{"sys_id"}, Limit: len(ids), NoCount: true})
		found := map[string]bool{}
		var e *servicenow.Error
		switch {
		case err == nil:
			for _, r := range recs {
				found[r["sys_id"]] = true
			}
		case errors.As(err, &e) && (e.StatusCode == 400 || e.StatusCode == 403):
			for _, u := range batch {
				res.Calls++
				_, gerr := client.Get(ctx, servicenow.TicketTable(u.Type), u.SysID, "sys_id")
				if gerr != nil && !servicenow.IsNotFound(gerr) {
					return deleted, gerr
				}
				found[u.SysID] = gerr == nil
			}
		default:
			return deleted, err
		}
		var seen []string
		var gone []scorebridge.RecordChange
		for _, u := range batch {
			if found[u.SysID] {
				seen = append(seen, u.ID)
			} else {
				gone = append(gone, scorebridge.RecordChange{SysID: u.SysID, Table: servicenow.TicketTable(u.Type), Deleted: true, Source: "sync"})
			}
		}
		if err := s.cfg.Store.MarkSeen(ctx, seen); err != nil {
			return deleted, err
		}
		applied, err := s.cfg.Store.ApplyChanges(ctx, connID, gone, StateName, "")
		if err != nil {
			return deleted, err
		}
		deleted += len(applied)
		s.follow(ctx, applied)
	}
	return deleted, nil
}

// ownsUnnamed reports whether tickets that name no connection belong to
// connID: they were sent to the default connection.
func (s *Service) ownsUnnamed(ctx context.Context, connID string) bool {
	if s.cfg.Connections == nil {
		return true
	}
	conns, err := s.cfg.Connections.FindConnections(ctx)
	if err != nil {
		s.cfg.Logger.Warn("connections not read; tickets of the default connection are not checked for deletion now", "error", err)
		return false
	}
	for _, c := range conns {
		if c.ID == connID {
			return c.IsDefault
		}
	}
	return false
}
