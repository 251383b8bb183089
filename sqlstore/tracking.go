package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/secret"
)

// TrackingStore keeps what the center knows of its tickets' ServiceNow
// records: their current fields, the history of changes, each
// connection's sync watermark, push secret (sealed) and the push
// signatures already accepted.
type TrackingStore struct {
	db  *DB
	box *secret.Box
}

// NewTrackingStore returns the tracking store on db, sealing push secrets
// with box.
func NewTrackingStore(db *DB, box *secret.Box) *TrackingStore {
	return &TrackingStore{db: db, box: box}
}

// TrackedTicket is what applying a change needs of a ticket.
type TrackedTicket struct {
	ID                string
	Type              scorebridge.TicketType
	ModCount          int
	State             string
	StateClass        scorebridge.StateClass
	RecommendationIDs []string
}

// AppliedChange is a change that moved a ticket forward.
type AppliedChange struct {
	Ticket TrackedTicket // as it was before
	Change scorebridge.RecordChange
	// StateName and Class are the ticket's new state name and class.
	StateName string
	Class     scorebridge.StateClass
}

// StateNamer names a state value of a ticket type.
type StateNamer func(t scorebridge.TicketType, value string) string

// Watermark returns the sys_updated_on (UTC, Table API layout) the last
// stored sync page reached, or "" before the first.
func (s *TrackingStore) Watermark(ctx context.Context, connectionID string) (string, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var w string
	err = tx.QueryRowContext(ctx, `SELECT watermark FROM sync_watermarks WHERE connection_id = ?`, connectionID).Scan(&w)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read watermark: %w", err)
	}
	return w, nil
}

// ApplyChanges stores every change that is newer (by sys_mod_count) than
// what its ticket holds, with a history entry and, for a change of state,
// an audit event, and moves the connection's watermark to watermark (when
// not ""), all in one transaction: a page is stored whole with its
// watermark, or not at all. Changes for records the center did not make
// are skipped. A transaction PostgreSQL breaks off for a deadlock is run
// again.
func (s *TrackingStore) ApplyChanges(ctx context.Context, connectionID string, changes []scorebridge.RecordChange, name StateNamer, watermark string) ([]AppliedChange, error) {
	var out []AppliedChange
	err := s.db.retryConflict(ctx, func() error {
		var err error
		out, err = s.applyChanges(ctx, connectionID, changes, name, watermark)
		return err
	})
	return out, err
}

func (s *TrackingStore) applyChanges(ctx context.Context, connectionID string, changes []scorebridge.RecordChange, name StateNamer, watermark string) ([]AppliedChange, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockTickets(ctx, tx, changes); err != nil {
		return nil, err
	}
	now := s.db.now()
	var out []AppliedChange
	for _, c := range changes {
		if c.SysID == "" {
			continue
		}
		tt, err := findTracked(ctx, tx, c.SysID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, err
		}
		if !c.Deleted {
			// Seen on the instance: not a deletion to look for.
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET seen_at = ? WHERE id = ?`, s.db.timeArg(now), tt.ID); err != nil {
				return nil, fmt.Errorf("record ticket seen: %w", err)
			}
		}
		// A deletion has no mod count of its own; it ends the record.
		if !c.Deleted && c.ModCount <= tt.ModCount {
			continue
		}
		if tt.StateClass == scorebridge.ClassDeleted {
			continue
		}
		a := AppliedChange{Ticket: *tt, Change: c}
		state := c.State
		if c.Deleted {
			state = tt.State
			a.Class, a.StateName = scorebridge.ClassDeleted, scorebridge.DeletedStateName
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET state_class = ?, state_name = ?, updated_at = ? WHERE id = ?`,
				string(a.Class), a.StateName, s.db.timeArg(now), tt.ID); err != nil {
				return nil, fmt.Errorf("mark ticket deleted: %w", err)
			}
		} else {
			a.Class, a.StateName = scorebridge.ClassifyState(tt.Type, c.State), name(tt.Type, c.State)
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET sys_mod_count = ?, sn_updated_on = ?, state = ?, state_name = ?, state_class = ?,
				assigned_to = ?, assignment_group = ?, sn_priority = ?, sn_due_date = ?, close_code = ?, close_notes = ?,
				resolved_at = ?, closed_at = ?,
				work_notes = CASE WHEN ? = '' THEN work_notes ELSE ? END, comments = CASE WHEN ? = '' THEN comments ELSE ? END,
				updated_at = ? WHERE id = ? AND sys_mod_count < ?`,
				c.ModCount, c.UpdatedOn.UTC().Format(snTimeLayout), c.State, a.StateName, string(a.Class),
				c.AssignedTo, c.AssignmentGroup, c.Priority, c.DueDate, c.CloseCode, c.CloseNotes, c.ResolvedAt, c.ClosedAt,
				c.WorkNotes, c.WorkNotes, c.Comments, c.Comments, s.db.timeArg(now), tt.ID, c.ModCount); err != nil {
				return nil, fmt.Errorf("update tracked ticket: %w", err)
			}
		}
		detail, _ := json.Marshal(c)
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_history (ticket_id, at, source, mod_count, state, state_name, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tt.ID, s.db.timeArg(now), c.Source, c.ModCount, state, a.StateName, string(detail)); err != nil {
			return nil, fmt.Errorf("add ticket history: %w", err)
		}
		if state != tt.State || c.Deleted {
			if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{
				Actor: "servicenow", Action: scorebridge.AuditTicketTrack, Target: tt.ID,
				Detail: map[string]any{"from": tt.State, "to": state, "stateName": a.StateName, "class": string(a.Class), "source": c.Source, "sysModCount": c.ModCount},
			}); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
	if watermark != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sync_watermarks (connection_id, watermark, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (connection_id) DO UPDATE SET watermark = excluded.watermark, updated_at = excluded.updated_at`,
			connectionID, watermark, s.db.timeArg(now)); err != nil {
			return nil, fmt.Errorf("store watermark: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// snTimeLayout is how the Table API writes date-time values.
const snTimeLayout = "2006-01-02 15:04:05"

// lockTickets locks, on PostgreSQL, the tickets the changes are for in the
// order of their ids before any is updated: changes come in the order the
// instance updated them, and two transactions updating the same tickets in
// two orders would deadlock. SQLite has one writer and needs no lock.
func lockTickets(ctx context.Context, tx *tx, changes []scorebridge.RecordChange) error {
	if tx.db.Dialect != DialectPostgres || len(changes) < 2 {
		return nil
	}
	sysIDs := make([]string, 0, len(changes))
	for _, c := range changes {
		if c.SysID != "" {
			sysIDs = append(sysIDs, c.SysID)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM tickets WHERE sys_id = ANY(?) ORDER BY id FOR UPDATE`, sysIDs)
	if err != nil {
		return fmt.Errorf("lock tracked tickets: %w", err)
	}
	return rows.Close()
}

func findTracked(ctx context.Context, tx *tx, sysID string) (*TrackedTicket, error) {
	var t TrackedTicket
	if err := tx.QueryRowContext(ctx, `SELECT id, type, sys_mod_count, state, state_class FROM tickets WHERE sys_id = ? ORDER BY created_at LIMIT 1`, sysID).
		Scan(&t.ID, &t.Type, &t.ModCount, &t.State, &t.StateClass); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT recommendation_id FROM ticket_recommendations WHERE ticket_id = ? ORDER BY position`, t.ID)
	if err != nil {
		return nil, fmt.Errorf("find ticket actions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		t.RecommendationIDs = append(t.RecommendationIDs, id)
	}
	return &t, rows.Err()
}

// SetDrift marks or clears a ticket's drift: it finished while its
// action's control is not achieved.
func (s *TrackingStore) SetDrift(ctx context.Context, ticketID string, drift bool) error {
	v := 0
	if drift {
		v = 1
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE tickets SET drift = ? WHERE id = ?`, v, ticketID); err != nil {
		return fmt.Errorf("set drift: %w", err)
	}
	return tx.Commit()
}

// PushSecret returns the connection's push secret, making one (32 random
// bytes, hex) the first time. It is stored sealed.
func (s *TrackingStore) PushSecret(ctx context.Context, connectionID string) (string, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	purpose := sealPurpose("push_secrets", connectionID, "secret")
	var sealed string
	err = tx.QueryRowContext(ctx, `SELECT secret FROM push_secrets WHERE connection_id = ?`, connectionID).Scan(&sealed)
	if err == nil {
		return s.box.Open(sealed, purpose)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read push secret: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	plain := hex.EncodeToString(b)
	if sealed, err = s.box.Seal(plain, purpose); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO push_secrets (connection_id, secret, created_at) VALUES (?, ?, ?)`,
		connectionID, sealed, s.db.timeArg(s.db.now())); err != nil {
		return "", fmt.Errorf("store push secret: %w", err)
	}
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{Action: scorebridge.AuditConnection, Target: connectionID, Detail: map[string]any{"change": "push secret created"}}); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return plain, nil
}

// UseSignature records a push signature as used. It returns ECONFLICT when
// the signature was seen already (a replay), and forgets signatures older
// than forgetBefore, which are refused as stale anyway.
func (s *TrackingStore) UseSignature(ctx context.Context, connectionID, signature string, forgetBefore time.Time) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM push_signatures WHERE seen_at < ?`, s.db.timeArg(forgetBefore)); err != nil {
		return fmt.Errorf("forget push signatures: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO push_signatures (connection_id, signature, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		connectionID, signature, s.db.timeArg(s.db.now()))
	if err != nil {
		return fmt.Errorf("record push signature: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return scorebridge.Errorf(scorebridge.ECONFLICT, "This push was received already (replayed).")
	}
	return tx.Commit()
}

// Summary counts tickets sent to ServiceNow by type and state, named as
// the center shows them, and lists each type's latest tickets: what the
// home page's cards show, read in one transaction: the counts the
// database keeps (ticket_state_counts), the latest from tickets_type_created.
func (s *TrackingStore) Summary(ctx context.Context) (map[scorebridge.TicketType]*scorebridge.TicketTypeSummary, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT type, state, connection_id, state_class, tickets FROM ticket_state_counts WHERE status = ? AND tickets > 0`,
		string(scorebridge.TicketSent))
	if err != nil {
		return nil, fmt.Errorf("count tickets: %w", err)
	}
	defer rows.Close()
	type group struct {
		t           scorebridge.TicketType
		state, conn string
		class       scorebridge.StateClass
		n           int
	}
	var groups []group
	var conns []string
	for rows.Next() {
		var g group
		if err := rows.Scan(&g.t, &g.state, &g.conn, &g.class, &g.n); err != nil {
			return nil, fmt.Errorf("read ticket count: %w", err)
		}
		groups = append(groups, g)
		conns = append(conns, g.conn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count tickets: %w", err)
	}
	rows.Close()
	namer, err := newTicketNamer(ctx, tx, conns)
	if err != nil {
		return nil, err
	}
	out := map[scorebridge.TicketType]*scorebridge.TicketTypeSummary{
		scorebridge.TicketIncident: {ByState: []scorebridge.StateCount{}},
		scorebridge.TicketChange:   {ByState: []scorebridge.StateCount{}},
	}
	// Tickets of several connections in the same state count together,
	// under the name the first one (the default connection's, when it has
	// any) gives it.
	sortGroups(groups, namer.def, func(g group) (string, string, bool) { return g.conn, g.state, g.class == scorebridge.ClassDeleted })
	index := map[scorebridge.TicketType]map[string]int{}
	for _, g := range groups {
		sum := out[g.t]
		if sum == nil {
			sum = &scorebridge.TicketTypeSummary{ByState: []scorebridge.StateCount{}}
			out[g.t] = sum
		}
		key := g.state
		if g.class == scorebridge.ClassDeleted {
			key = string(scorebridge.ClassDeleted)
		}
		if index[g.t] == nil {
			index[g.t] = map[string]int{}
		}
		if i, ok := index[g.t][key]; ok {
			sum.ByState[i].Count += g.n
		} else {
			index[g.t][key] = len(sum.ByState)
			sum.ByState = append(sum.ByState, scorebridge.StateCount{State: key, StateName: namer.name(g.conn, g.t, g.state, g.class), Count: g.n})
		}
		sum.Total += g.n
	}
	for t, sum := range out {
		sortStateCounts(sum.ByState)
		ts, err := NewTicketStore(s.db).findTicketsTx(ctx, tx, `WHERE t.type = ?`, []any{string(t)}, "t.created_at DESC, t.id", scorebridge.SummaryLatest)
		if err != nil {
			return nil, err
		}
		if ts == nil {
			ts = []*scorebridge.Ticket{}
		}
		sum.Latest = ts
	}
	return out, nil
}

// TicketHistoryEntry is one change of a ticket's record.
type TicketHistoryEntry = scorebridge.TicketHistoryEntry

// FindTicketHistory returns a ticket's changes, oldest first.
func (s *TrackingStore) FindTicketHistory(ctx context.Context, ticketID string) ([]TicketHistoryEntry, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findTicketHistory(ctx, tx, ticketID)
}

func findTicketHistory(ctx context.Context, tx *tx, ticketID string) ([]TicketHistoryEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT at, source, mod_count, state, state_name, detail FROM ticket_history WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("find ticket history: %w", err)
	}
	defer rows.Close()
	out := []TicketHistoryEntry{}
	for rows.Next() {
		var e TicketHistoryEntry
		var detail string
		if err := rows.Scan(scanTime{&e.At}, &e.Source, &e.ModCount, &e.State, &e.StateName, &detail); err != nil {
			return nil, err
		}
		var c scorebridge.RecordChange
		if json.Unmarshal([]byte(detail), &c) == nil && c.SysID != "" {
			e.Change = &c
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FindTicketTracking returns the tracked fields of a ticket's record and
// its history, oldest change first. Returns ENOTFOUND.
func (s *TrackingStore) FindTicketTracking(ctx context.Context, ticketID string) (*scorebridge.TicketTracking, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t := scorebridge.TicketTracking{TicketID: ticketID}
	var drift int
	err = tx.QueryRowContext(ctx, `SELECT state, state_name, state_class, assigned_to, assignment_group, sn_priority, sn_due_date, close_code, close_notes,
		resolved_at, closed_at, sn_updated_on, work_notes, comments, drift, follows_ticket_id, followed_by_ticket_id FROM tickets WHERE id = ?`, ticketID).
		Scan(&t.State, &t.StateName, &t.StateClass, &t.AssignedTo, &t.AssignmentGroup, &t.Priority, &t.DueDate, &t.CloseCode, &t.CloseNotes,
			&t.ResolvedAt, &t.ClosedAt, &t.UpdatedOn, &t.WorkNotes, &t.Comments, &drift, &t.FollowsTicketID, &t.FollowedByTicketID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scorebridge.Errorf(scorebridge.ENOTFOUND, "There is no ticket %q.", ticketID)
	} else if err != nil {
		return nil, fmt.Errorf("find ticket tracking: %w", err)
	}
	t.Drift = drift != 0
	if t.History, err = findTicketHistory(ctx, tx, ticketID); err != nil {
		return nil, err
	}
	return &t, nil
}

// UnseenTicket is a tracked ticket whose record no sync has found lately.
type UnseenTicket struct {
	ID    string
	SysID string
	Type  scorebridge.TicketType
}

// FindUnseen returns up to limit sent tickets of the connection (with
// those of no connection named when withDefault: they belong to the
// default one) that no sync found on the instance since before, least
// recently seen first. Deleted tickets are not looked for again.
func (s *TrackingStore) FindUnseen(ctx context.Context, connectionID string, withDefault bool, before time.Time, limit int) ([]UnseenTicket, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	conn := `connection_id = ?`
	if withDefault {
		conn = `(connection_id = ? OR connection_id = '')`
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, sys_id, type FROM tickets
		WHERE status = ? AND sys_id <> '' AND state_class <> ? AND `+conn+` AND (seen_at IS NULL OR seen_at < ?)
		ORDER BY seen_at IS NOT NULL, seen_at, id LIMIT ?`,
		string(scorebridge.TicketSent), string(scorebridge.ClassDeleted), connectionID, s.db.timeArg(before), limit)
	if err != nil {
		return nil, fmt.Errorf("find unseen tickets: %w", err)
	}
	defer rows.Close()
	var out []UnseenTicket
	for rows.Next() {
		var u UnseenTicket
		if err := rows.Scan(&u.ID, &u.SysID, &u.Type); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// MarkSeen records that the tickets' records were found on the instance.
// The tickets are updated in the order of their ids, the order
// ApplyChanges locks them in, so the two never wait on each other in a
// circle.
func (s *TrackingStore) MarkSeen(ctx context.Context, ticketIDs []string) error {
	if len(ticketIDs) == 0 {
		return nil
	}
	ids := slices.Sorted(slices.Values(ticketIDs))
	return s.db.retryConflict(ctx, func() error { return s.markSeen(ctx, ids) })
}

func (s *TrackingStore) markSeen(ctx context.Context, ticketIDs []string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.timeArg(s.db.now())
	for _, id := range ticketIDs {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET seen_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("record ticket seen: %w", err)
		}
	}
	return tx.Commit()
}
