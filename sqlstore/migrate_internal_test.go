package sqlstore

import (
	"reflect"
	"testing"
)

// Both dialects must carry the same migration numbers, so a schema version
// means the same tables on each.
func TestMigrations_SameNumbersOnBothDialects(t *testing.T) {
	versions := func(dialect string) []int {
		ms, err := migrations(dialect)
		if err != nil {
			t.Fatal(err)
		}
		var vs []int
		for _, m := range ms {
			vs = append(vs, m.version)
		}
		return vs
	}
	sqlite, postgres := versions(DialectSQLite), versions(DialectPostgres)
	if len(sqlite) == 0 || !reflect.DeepEqual(sqlite, postgres) {
		t.Fatalf("sqlite migrations %v, postgres %v", sqlite, postgres)
	}
}
