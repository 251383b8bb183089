package sqlstore_test

import (
	"context"
	"testing"

	"github.com/scorebridge/scorebridge/sqlstore"
)

// TestPostgres_PlansForTheValue: on PostgreSQL every connection plans each
// statement for the values it runs with (plan_cache_mode
// force_custom_plan), not with the generic plan that walks a whole index
// for a rare value; a URL that sets plan_cache_mode keeps its own.
func TestPostgres_PlansForTheValue(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		if b.name != sqlstore.DialectPostgres {
			continue
		}
		for _, c := range []struct{ query, want string }{{"", "force_custom_plan"}, {"&plan_cache_mode=auto", "auto"}} {
			db, err := sqlstore.Open(context.Background(), b.dsn(t)+c.query)
			if err != nil {
				t.Fatal(err)
			}
			var mode string
			if err := db.SQL.QueryRow(`SHOW plan_cache_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != c.want {
				t.Errorf("URL with %q: plan_cache_mode = %q, want %q", c.query, mode, c.want)
			}
			db.Close()
		}
	}
}
