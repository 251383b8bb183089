package e2e_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

// importCounts records what the importer reports to /metrics.
type importCounts struct {
	mu  sync.Mutex
	got map[string]int
}

func (c *importCounts) ObserveImport(kind, outcome string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		kind = "negative duration"
	}
	c.got[kind+"/"+outcome]++
}

// notifications records what the importer tells the notifier.
type notifications struct {
	mu  sync.Mutex
	got []scorebridge.Notification
}

func (n *notifications) Notify(_ context.Context, e scorebridge.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, e)
	return nil
}

func TestImportObservedAndNotified(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		ctx := asAdmin()
		counts := &importCounts{got: map[string]int{}}
		sink := &notifications{}
		b.im.Metrics, b.im.Notifier, b.im.CenterURL = counts, sink, "https://center.example"

		if _, err := b.im.ImportFile(ctx, "graph_export.json", readFixture(t, "graph_export.json"), "upload"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.im.ImportFile(ctx, "bad.json", []byte(`{"findings": []}`), "upload"); err == nil {
			t.Fatal("an unknown file was imported")
		}
		newer, err := b.im.ImportFile(ctx, "graph_export_newer.json", readFixture(t, "graph_export_newer.json"), "upload")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"graph/ok": 2, "unknown/invalid": 1}
		for k, n := range want {
			if counts.got[k] != n {
				t.Errorf("metrics %s = %d, want %d (all: %v)", k, counts.got[k], n, counts.got)
			}
		}
		if len(counts.got) != len(want) {
			t.Errorf("metrics = %v", counts.got)
		}
		// The two regressions of the newer export are one message of one
		// cause, the source.
		if len(sink.got) != 1 {
			t.Fatalf("notifications = %+v", sink.got)
		}
		n := sink.got[0]
		if n.Kind != scorebridge.NotifyControlRegressed || n.Cause != "source:"+newer.SourceID || len(n.Links) != 1 || n.Links[0].URL != "https://center.example/" {
			t.Errorf("notification = %+v", n)
		}
		// The audit event the service built is the import's, written with it.
		ev, _, err := b.audit.FindAuditEvents(ctx, scorebridge.AuditFilter{Action: scorebridge.AuditImport})
		if err != nil || len(ev) != 2 || ev[0].Detail["regressed"] != float64(2) || ev[0].Actor != "ana" {
			t.Fatalf("audit = %+v, %v", ev, err)
		}
	})
}

// TestImportOlderDaysReadCompactly checks that days other than the latest,
// read only for their points, still take numbers written as strings and
// skip entries that are not objects, as the latest day does.
func TestImportOlderDaysReadCompactly(t *testing.T) {
	forEachDB(t, func(t *testing.T, b *bundle) {
		doc := []byte(`{"secureScoreControlProfiles":[
 {"id":"A","controlCategory":"Identity","actionType":"Config","maxScore":10,"title":"A"},
 {"id":"B","controlCategory":"Data","actionType":"Config","maxScore":4,"title":"B"}],
 "secureScores":[
 {"createdDateTime":"2026-11-30T00:00:00Z","currentScore":"7","maxScore":14,"controlScores":[
   {"controlName":"A","controlCategory":"Identity","score":"5","scoreInPercentage":"50"},
   42,
   {"controlName":"B","controlCategory":"Data","score":2,"scoreInPercentage":50}]},
 {"createdDateTime":"2026-12-01T00:00:00Z","currentScore":14,"maxScore":14,"controlScores":[
   {"controlName":"A","controlCategory":"Identity","score":10,"scoreInPercentage":100},
   {"controlName":"B","controlCategory":"Data","score":4,"scoreInPercentage":100}]}]}`)
		imp, err := b.im.ImportFile(asAdmin(), "two-days.json", doc, "upload")
		if err != nil {
			t.Fatal(err)
		}
		days, err := b.store.SourceHistory(asAdmin(), imp.SourceID, 30)
		if err != nil || len(days) != 2 {
			t.Fatalf("history = %+v, %v", days, err)
		}
		old := days[0]
		if old.Day != "2026-11-30" || old.CurrentScore != 7 {
			t.Fatalf("older day = %+v", old)
		}
		for _, c := range old.Categories {
			switch c.Category {
			case scorebridge.CategoryIdentity:
				if c.CurrentScore != 5 || c.MaxScore != 10 {
					t.Errorf("identity = %+v", c)
				}
			case scorebridge.CategoryData:
				if c.CurrentScore != 2 || c.MaxScore != 4 {
					t.Errorf("data = %+v", c)
				}
			}
		}
	})
}
