package sqlstore_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"github.com/scorebridge/scorebridge/sqlstore"
)

// listQueries are the list queries the pages and the API run, as the stores
// write them (placeholders rebound for PostgreSQL below), with the filter
// values a page sends.
var listQueries = []struct {
	name  string
	query string
	args  []any
}{
	{"tickets", `SELECT id FROM tickets ORDER BY created_at DESC, id LIMIT 50`, nil},
	{"tickets by status", `SELECT id FROM tickets t WHERE t.status = ? ORDER BY t.created_at DESC, t.id LIMIT 50`, []any{"failed"}},
	{"tickets page 2", `SELECT t.id FROM tickets t WHERE (t.created_at < ? OR (t.created_at = ? AND t.id > ?)) ORDER BY t.created_at DESC, t.id LIMIT 26`, []any{"2026-12-01T00:00:00.000000Z", "2026-12-01T00:00:00.000000Z", "x"}},
	{"tickets by type", `SELECT t.id FROM tickets t WHERE t.type = ? ORDER BY t.created_at DESC, t.id LIMIT 26`, []any{"change"}},
	{"tickets by type and status", `SELECT t.id FROM tickets t WHERE t.type = ? AND t.status = ? ORDER BY t.created_at DESC, t.id LIMIT 26`, []any{"incident", "sent"}},
	{"tickets by type and state", `SELECT t.id FROM tickets t WHERE t.type = ? AND t.state = ? ORDER BY t.created_at DESC, t.id LIMIT 26`, []any{"incident", "2"}},
	{"tickets by assignee", `SELECT t.id FROM tickets t WHERE t.assigned_to = ? ORDER BY t.created_at DESC, t.id LIMIT 26`, []any{"Beth Anglin"}},
	{"tickets by update", `SELECT t.id FROM tickets t ORDER BY t.updated_at DESC, t.id LIMIT 26`, nil},
	{"tickets by name", `SELECT t.id FROM tickets t WHERE (t.name, t.id) > (?, ?) ORDER BY t.name, t.id LIMIT 26`, []any{"Fix", "x"}},
	{"ticket cards", `SELECT type, state, connection_id, state_class, tickets FROM ticket_state_counts WHERE status = ? AND tickets > 0`, []any{"sent"}},
	{"ticket card latest", `SELECT t.id FROM tickets t WHERE t.type = ? ORDER BY t.created_at DESC, t.id LIMIT 5`, []any{"incident"}},
	{"actions by impact", `SELECT id FROM recommendations ORDER BY impact DESC, id LIMIT 51`, nil},
	{"actions by title", `SELECT id FROM recommendations ORDER BY title_key, id LIMIT 51`, nil},
	{"actions by update", `SELECT id FROM recommendations ORDER BY updated_at DESC, id LIMIT 51`, nil},
	{"category by impact", `SELECT id FROM recommendations WHERE category = ? ORDER BY impact DESC, id LIMIT 51`, []any{"Data"}},
	{"category by title", `SELECT id FROM recommendations WHERE category = ? ORDER BY title_key, id LIMIT 51`, []any{"Data"}},
	{"category by update", `SELECT id FROM recommendations WHERE category = ? ORDER BY updated_at DESC, id LIMIT 51`, []any{"Data"}},
	{"state by impact", `SELECT id FROM recommendations WHERE state = ? ORDER BY impact DESC, id LIMIT 51`, []any{"planned"}},
	{"state by title", `SELECT id FROM recommendations WHERE state = ? ORDER BY title_key, id LIMIT 51`, []any{"planned"}},
	{"state by update", `SELECT id FROM recommendations WHERE state = ? ORDER BY updated_at DESC, id LIMIT 51`, []any{"planned"}},
	{"source by impact", `SELECT id FROM recommendations WHERE source = ? ORDER BY impact DESC, id LIMIT 51`, []any{"user"}},
	{"source by title", `SELECT id FROM recommendations WHERE source = ? ORDER BY title_key, id LIMIT 51`, []any{"user"}},
	{"source by update", `SELECT id FROM recommendations WHERE source = ? ORDER BY updated_at DESC, id LIMIT 51`, []any{"user"}},
	{"score", `SELECT category, source, state, max_micro, current_micro FROM score_totals WHERE actions > 0`, nil},
	{"audit by actor", `SELECT id FROM audit_events WHERE actor = ? ORDER BY id DESC LIMIT 101`, []any{"ana"}},
	{"audit by action", `SELECT id FROM audit_events WHERE action = ? ORDER BY id DESC LIMIT 101`, []any{"ticket.send"}},
	{"audit by outcome", `SELECT id FROM audit_events WHERE outcome = ? ORDER BY id DESC LIMIT 101`, []any{"denied"}},
	{"audit by actor, next page", `SELECT id FROM audit_events WHERE actor = ? AND id < ? ORDER BY id DESC LIMIT 101`, []any{"ana", 5000}},
	{"audit by outcome until", `SELECT id FROM audit_events WHERE outcome = ? AND at < ? ORDER BY id DESC LIMIT 101`, []any{"denied", "2026-01-01T00:00:00.000000Z"}},
	{"audit by action since", `SELECT id FROM audit_events WHERE action = ? AND at >= ? ORDER BY id DESC LIMIT 101`, []any{"ticket.send", "2026-01-01T00:00:00.000000Z"}},
}

// servedBy names the index a query must use where walking the primary key
// backwards with a filter would also avoid a sort but read every row that
// does not match: the audit log's, whose order is its id.
var servedBy = map[string]string{
	"audit by actor":            "audit_events_actor_id",
	"audit by action":           "audit_events_action_id",
	"audit by outcome":          "audit_events_outcome_id",
	"audit by actor, next page": "audit_events_actor_id",
	"audit by outcome until":    "audit_events_outcome_id",
	"audit by action since":     "audit_events_action_id",
}

// TestPlans_ListQueriesUseAnIndex asks each database, through the driver
// the center uses, how it would run every list query, and fails when one
// would read the whole table or sort it. On PostgreSQL, where a planner
// rightly prefers a scan of a table this small, sequential scans and sorts
// are priced out first, so the plan shows whether an index can serve.
func TestPlans_ListQueriesUseAnIndex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		ctx := context.Background()
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if b.name == "postgres" {
			for _, set := range []string{`SET enable_seqscan = off`, `SET enable_sort = off`} {
				if _, err := conn.ExecContext(ctx, set); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, q := range listQueries {
			plan := queryPlan(t, conn, b, q.query, q.args...)
			text := strings.Join(plan, "\n")
			bad := strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort")
			// The score's totals are a few dozen rows however many actions
			// there are: reading them whole is the point.
			if q.name != "score" && strings.Contains(text, "Seq Scan") {
				bad = true
			}
			if b.name == "sqlite" && q.name != "score" {
				// "SCAN t" without an index reads the whole table.
				for _, line := range plan {
					if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "INDEX") {
						bad = true
					}
				}
			}
			if want, ok := servedBy[q.name]; ok && !strings.Contains(text, want) {
				bad = true
			}
			if bad {
				t.Errorf("%s reads or sorts the whole table:\n%s", q.name, text)
			}
		}
	})
}

// queryPlan asks the database how it would run query (written with '?'
// placeholders) and returns the plan's lines.
func queryPlan(t *testing.T, conn *sql.Conn, b backend, query string, args ...any) []string {
	t.Helper()
	ctx := context.Background()
	explain := "EXPLAIN QUERY PLAN "
	if b.name == "postgres" {
		explain = "EXPLAIN "
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	rows, err := conn.QueryContext(ctx, explain+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, toString(vals[len(vals)-1]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestPlans_ScoreExclusionsUseIndexes: the actions the score leaves out
// (unscored, retired, the catalog after an import) are found each by its
// index, never by reading every action: the home page runs this on every
// request, so its cost must not grow with the actions.
func TestPlans_ScoreExclusionsUseIndexes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := openTest(t, b)
		ctx := context.Background()
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if b.name == "postgres" {
			if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
				t.Fatal(err)
			}
		}
		for _, imported := range []bool{false, true} {
			plan := queryPlan(t, conn, b, sqlstore.NotCountingQuery(imported), true, "catalog")
			text := strings.Join(plan, "\n")
			bad := strings.Contains(text, "Seq Scan") || !strings.Contains(text, "recommendations_unscored") || !strings.Contains(text, "recommendations_retired")
			for _, line := range plan {
				// A scan of the partial index of retired actions reads
				// only those; any other scan reads every action.
				if strings.HasPrefix(line, "SCAN recommendations") && !strings.Contains(line, "recommendations_retired") {
					bad = true
				}
			}
			if imported && !strings.Contains(text, "recommendations_score") {
				bad = true
			}
			if bad {
				t.Errorf("imported=%v: the score's exclusions read every action:\n%s", imported, text)
			}
		}
	})
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}
