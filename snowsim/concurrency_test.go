package snowsim_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge/snowsim"
)

// TestConcurrentWrites checks that an Instance is safe for concurrent use:
// parallel inserts and updates over HTTP each get their own number and
// sys_id, and every update is counted in sys_mod_count.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target := mkIncident(t, b.in, map[string]string{"short_description": "shared"})
	var events sync.Map
	b.in.OnWrite(func(ev snowsim.WriteEvent) {
		if ev.Table == "incident" && ev.Operation == "insert" {
			events.Store(ev.Record["number"], true)
		}
	})
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				for _, rq := range []struct{ method, path, body string }{
					{"POST", "/api/now/table/incident", fmt.Sprintf(`{"short_description":"w%d-%d"}`, w, i)},
					{"PATCH", "/api/now/table/incident/" + target, `{"work_notes":"tick"}`},
				} {
					req, _ := http.NewRequest(rq.method, b.srv.URL+rq.path, strings.NewReader(rq.body))
					req.SetBasicAuth("admin", "admin")
					req.Header.Set("Content-Type", "application/json")
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err
						continue
					}
					res.Body.Close()
					if res.StatusCode >= 300 {
						errs <- fmt.Errorf("%s %s: %d", rq.method, rq.path, res.StatusCode)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rows, err := b.in.Query("incident", "short_descriptionSTARTSWITHw")
	if err != nil {
		t.Fatal(err)
	}
	numbers, ids := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		numbers[r["number"]], ids[r["sys_id"]] = true, true
	}
	if len(rows) != workers*each || len(numbers) != len(rows) || len(ids) != len(rows) {
		t.Fatalf("%d rows, %d numbers, %d sys_ids; want %d distinct", len(rows), len(numbers), len(ids), workers*each)
	}
	got, _ := b.in.Get("incident", target)
	if got["sys_mod_count"] != fmt.Sprint(workers*each) {
		t.Fatalf("sys_mod_count %s, want %d", got["sys_mod_count"], workers*each)
	}
	if j, _ := b.in.Query("sys_journal_field", "element_id="+target); len(j) != workers*each {
		t.Fatalf("%d journal entries, want %d", len(j), workers*each)
	}
	n := 0
	events.Range(func(_, _ any) bool { n++; return true })
	if n != workers*each {
		t.Fatalf("%d insert events, want %d", n, workers*each)
	}
}

// TestQueryDuringInserts runs the Go query API against a stream of inserts.
// Query once took the instance's read lock twice; with a writer queued
// between the two it deadlocked, so this test hangs on that bug.
func TestQueryDuringInserts(t *testing.T) {
	t.Parallel()
	in, err := snowsim.New(snowsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			if _, err := in.Insert("incident", map[string]string{"short_description": fmt.Sprintf("q%d", i)}); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		if _, err := in.Query("incident", "short_descriptionSTARTSWITHq"); err != nil {
			t.Fatalf("query: %v", err)
		}
	}
	<-done
	recs, err := in.Query("incident", "short_descriptionSTARTSWITHq")
	if err != nil || len(recs) != n {
		t.Fatalf("after the inserts: %d records, %v; want %d", len(recs), err, n)
	}
}
