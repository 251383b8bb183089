package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// StateNames returns a connection's ticket state names: the instance's
// labels as last read and the admin's renames.
func (s *TrackingStore) StateNames(ctx context.Context, connectionID string) (*scorebridge.StateNames, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	all, err := loadStateNames(ctx, tx, []string{connectionID})
	if err != nil {
		return nil, err
	}
	return all[connectionID], nil
}

// StoreStateLabels replaces the connection's instance labels with labels,
// read at at. The admin's renames stay, those of values the instance no
// longer lists included (a state may come back).
func (s *TrackingStore) StoreStateLabels(ctx context.Context, connectionID string, labels []scorebridge.StateLabel, at time.Time) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_state_names WHERE connection_id = ? AND custom_name = ''`, connectionID); err != nil {
		return fmt.Errorf("clear state labels: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ticket_state_names SET label = '', sequence = 0 WHERE connection_id = ?`, connectionID); err != nil {
		return fmt.Errorf("clear state labels: %w", err)
	}
	for _, l := range labels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_state_names (connection_id, table_name, state_value, label, sequence) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (connection_id, table_name, state_value) DO UPDATE SET label = excluded.label, sequence = excluded.sequence`,
			connectionID, l.Table, l.Value, l.Label, l.Sequence); err != nil {
			return fmt.Errorf("store state label: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_state_refreshes (connection_id, refreshed_at) VALUES (?, ?)
		ON CONFLICT (connection_id) DO UPDATE SET refreshed_at = excluded.refreshed_at`, connectionID, s.db.timeArg(at)); err != nil {
		return fmt.Errorf("store state refresh: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// RenameStates replaces the connection's renames with renames, which the
// caller has validated, and audits what changed in the same transaction.
func (s *TrackingStore) RenameStates(ctx context.Context, connectionID string, renames []scorebridge.StateRename) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	before, err := loadStateNames(ctx, tx, []string{connectionID})
	if err != nil {
		return err
	}
	old := before[connectionID].Renames
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_state_names WHERE connection_id = ? AND label = '' AND sequence = 0`, connectionID); err != nil {
		return fmt.Errorf("clear renames: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ticket_state_names SET custom_name = '' WHERE connection_id = ?`, connectionID); err != nil {
		return fmt.Errorf("clear renames: %w", err)
	}
	var changes []map[string]any
	kept := map[string]bool{}
	for _, r := range renames {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_state_names (connection_id, table_name, state_value, custom_name) VALUES (?, ?, ?, ?)
			ON CONFLICT (connection_id, table_name, state_value) DO UPDATE SET custom_name = excluded.custom_name`,
			connectionID, r.Table, r.Value, r.Name); err != nil {
			return fmt.Errorf("store rename: %w", err)
		}
		kept[r.Table+"|"+r.Value] = true
		if was := old[r.Table][r.Value]; was != r.Name {
			changes = append(changes, map[string]any{"table": r.Table, "value": r.Value, "from": was, "to": r.Name})
		}
	}
	for table, m := range old {
		for value, was := range m {
			if !kept[table+"|"+value] {
				changes = append(changes, map[string]any{"table": table, "value": value, "from": was, "to": ""})
			}
		}
	}
	if len(changes) == 0 {
		return nil // nothing changed: nothing to commit or audit
	}
	if err := auditInTx(ctx, tx, &scorebridge.AuditEvent{
		Actor: scorebridge.ActorFromContext(ctx), Action: scorebridge.AuditStateNames, Target: connectionID,
		Detail: map[string]any{"renames": changes},
	}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// loadStateNames reads the state names of the connections, one entry per
// connection asked for (empty when it has none). The table holds a few
// dozen rows per connection.
func loadStateNames(ctx context.Context, tx *tx, connectionIDs []string) (map[string]*scorebridge.StateNames, error) {
	out := map[string]*scorebridge.StateNames{}
	if len(connectionIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(connectionIDs))
	for i, id := range connectionIDs {
		args[i] = id
		out[id] = &scorebridge.StateNames{Labels: map[string]map[string]scorebridge.StateLabel{}, Renames: map[string]map[string]string{}}
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
	rows, err := tx.QueryContext(ctx, `SELECT connection_id, table_name, state_value, label, sequence, custom_name FROM ticket_state_names WHERE connection_id IN (`+marks+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find state names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var conn, custom string
		var l scorebridge.StateLabel
		if err := rows.Scan(&conn, &l.Table, &l.Value, &l.Label, &l.Sequence, &custom); err != nil {
			return nil, fmt.Errorf("read state name: %w", err)
		}
		n := out[conn]
		if l.Label != "" {
			if n.Labels[l.Table] == nil {
				n.Labels[l.Table] = map[string]scorebridge.StateLabel{}
			}
			n.Labels[l.Table][l.Value] = l
		}
		if custom != "" {
			if n.Renames[l.Table] == nil {
				n.Renames[l.Table] = map[string]string{}
			}
			n.Renames[l.Table][l.Value] = custom
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find state names: %w", err)
	}
	rows.Close()
	rrows, err := tx.QueryContext(ctx, `SELECT connection_id, refreshed_at FROM ticket_state_refreshes WHERE connection_id IN (`+marks+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find state refreshes: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var conn string
		var at time.Time
		if err := rrows.Scan(&conn, scanTime{&at}); err != nil {
			return nil, fmt.Errorf("read state refresh: %w", err)
		}
		out[conn].RefreshedAt = at
	}
	return out, rrows.Err()
}

// defaultConnectionID returns the default connection's id, "" when there
// is none: a ticket shared without naming a connection went to it.
func defaultConnectionID(ctx context.Context, tx *tx) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM connections WHERE is_default = ? LIMIT 1`, true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("find default connection: %w", err)
	}
	return id, nil
}

// ticketNamer names the states of tickets read in one transaction, loading
// each connection's names once.
type ticketNamer struct {
	names map[string]*scorebridge.StateNames
	def   string
}

// newTicketNamer loads the names of the connections (and the default one,
// for tickets that name none).
func newTicketNamer(ctx context.Context, tx *tx, connectionIDs []string) (*ticketNamer, error) {
	def, err := defaultConnectionID(ctx, tx)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	list := []string{}
	for _, id := range append(connectionIDs, def) {
		if id != "" && !ids[id] {
			ids[id] = true
			list = append(list, id)
		}
	}
	names, err := loadStateNames(ctx, tx, list)
	if err != nil {
		return nil, err
	}
	return &ticketNamer{names: names, def: def}, nil
}

// name is what a ticket's state shows. A deleted record keeps its mark.
func (n *ticketNamer) name(connectionID string, t scorebridge.TicketType, state string, class scorebridge.StateClass) string {
	if class == scorebridge.ClassDeleted {
		return scorebridge.DeletedStateName
	}
	if connectionID == "" {
		connectionID = n.def
	}
	return n.names[connectionID].Name(t, state)
}

// sortGroups puts the default connection's groups first, so the name a
// merged count shows is the default connection's, then orders by
// connection for a stable answer.
func sortGroups[G any](groups []G, def string, key func(G) (conn, state string, deleted bool)) {
	sort.SliceStable(groups, func(i, j int) bool {
		ci, _, _ := key(groups[i])
		cj, _, _ := key(groups[j])
		if (ci == def || ci == "") != (cj == def || cj == "") {
			return ci == def || ci == ""
		}
		return ci < cj
	})
}

// sortStateCounts orders a card's states by value, which follows the
// workflow on a fresh instance (New first), unknown text after, deleted
// records last.
func sortStateCounts(cs []scorebridge.StateCount) {
	rank := func(c scorebridge.StateCount) (int, int) {
		if c.State == string(scorebridge.ClassDeleted) {
			return 2, 0
		}
		if n, err := strconv.Atoi(c.State); err == nil {
			return 0, n
		}
		return 1, 0
	}
	sort.SliceStable(cs, func(i, j int) bool {
		ai, an := rank(cs[i])
		bi, bn := rank(cs[j])
		if ai != bi {
			return ai < bi
		}
		if an != bn {
			return an < bn
		}
		return cs[i].State < cs[j].State
	})
}
