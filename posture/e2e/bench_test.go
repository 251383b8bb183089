package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/posture"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// graphExport writes a Graph export of n control profiles and days of
// history, in the documented shapes.
func graphExport(n, days int) []byte {
	var b bytes.Buffer
	cats := []string{"Identity", "Data", "Device", "Apps", "Infrastructure"}
	b.WriteString(`{"secureScoreControlProfiles":{"value":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"Control%05d","azureTenantId":"bench-tenant","title":"Control number %d","controlCategory":%q,"actionType":"Config","service":"AzureAD","tier":"Core","userImpact":"Low","implementationCost":"Moderate","threats":["Account breach","Elevation of privilege"],"maxScore":%d,"remediation":"<p>Do <b>%d</b>.</p>","controlStateUpdates":[]}`,
			i, i, cats[i%5], 1+i%10, i)
	}
	b.WriteString(`]},"secureScores":{"value":[`)
	start := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	for d := 0; d < days; d++ {
		if d > 0 {
			b.WriteByte(',')
		}
		var cur, max float64
		var cs bytes.Buffer
		for i := 0; i < n; i++ {
			m := float64(1 + i%10)
			pct := float64((i*7 + d) % 101)
			score := m * pct / 100
			cur += score
			max += m
			if i > 0 {
				cs.WriteByte(',')
			}
			fmt.Fprintf(&cs, `{"controlName":"Control%05d","controlCategory":%q,"score":%g,"scoreInPercentage":%g,"count":"%d","total":"100","on":"true"}`, i, cats[i%5], score, pct, int(pct))
		}
		fmt.Fprintf(&b, `{"id":"bench-tenant_%s","azureTenantId":"bench-tenant","createdDateTime":%q,"currentScore":%g,"maxScore":%g,"controlScores":[%s]}`,
			start.AddDate(0, 0, -d).Format("2006-01-02"), start.AddDate(0, 0, -d).Format(time.RFC3339), cur, max, cs.String())
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

// peakHeap samples the live heap while f runs and returns its highest value.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var p uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			p = max(p, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- p
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	return <-peak
}

// BenchmarkImportGraph10000 imports 10,000 control profiles with 90 days of
// history into a fresh SQLite center, and prints the time and the peak heap.
func BenchmarkImportGraph10000(b *testing.B) {
	data := graphExport(10000, 90)
	b.ReportMetric(float64(len(data))/(1<<20), "MiB-file")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := sqlstore.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		im := &posture.Importer{Store: sqlstore.NewPostureStore(db, nil)}
		ctx := scorebridge.NewContextWithUser(context.Background(), &scorebridge.User{ID: "bench", Name: "bench"})
		runtime.GC()
		b.StartTimer()
		var imp *scorebridge.Import
		start := time.Now()
		peak := peakHeap(func() {
			if imp, err = im.ImportFile(ctx, "bench.json", data, "cli"); err != nil {
				b.Fatal(err)
			}
		})
		elapsed := time.Since(start)
		b.StopTimer()
		if imp.Added != 10000 || imp.Reported == nil || imp.Score.CurrentScore != imp.Reported.CurrentScore {
			b.Fatalf("import = added %d, center %v, reported %+v", imp.Added, imp.Score.CurrentScore, imp.Reported)
		}
		b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
		b.Logf("10,000 profiles + 90 days (%.1f MiB file): %v, peak heap %.0f MiB (reference: an import a day should take seconds, not minutes)",
			float64(len(data))/(1<<20), elapsed.Round(time.Millisecond), float64(peak)/(1<<20))
		db.Close()
		b.StartTimer()
	}
}
