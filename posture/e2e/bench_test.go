package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
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

// peakHeap samples the heap in use (runtime/metrics' objects and the
// unused parts of their spans, as ReadMemStats' HeapInuse) while f runs
// and returns its highest value.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var p uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			p = max(p, sample[0].Value.Uint64()+sample[1].Value.Uint64())
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

// resetPeakRSS starts the kernel's count of the process's peak resident
// memory (VmHWM) afresh, so it measures the import and not the export the
// benchmark built before it. It reports whether the kernel allowed it.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS reads VmHWM from /proc/self/status, in bytes (0 where there is
// no /proc).
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// The figures of the import before it read the export in place (every
// day's controlScores decoded into maps, one statement prepared per row),
// on the same 118 MiB export: the reference the benchmark prints beside
// its own.
const (
	referenceTime    = "1m52s; 31.3s measured on this machine before the change"
	referenceHeapMiB = 1102
)

// BenchmarkImportGraph10000 imports 10,000 control profiles with 90 days of
// history into a fresh SQLite center, and prints the time, the peak heap
// and the peak resident memory beside the reference figures.
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
		rssReset := resetPeakRSS()
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
		rss := peakRSS()
		if imp.Added != 10000 || imp.Reported == nil || imp.Score.CurrentScore != imp.Reported.CurrentScore {
			b.Fatalf("import = added %d, center %v, reported %+v", imp.Added, imp.Score.CurrentScore, imp.Reported)
		}
		b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
		b.ReportMetric(float64(rss)/(1<<20), "MiB-VmHWM")
		rssNote := "since the import began"
		if !rssReset {
			rssNote = "since the process began, the export's making included"
		}
		b.Logf("10,000 profiles + 90 days (%.1f MiB file): %v (reference %s), peak heap in use %.0f MiB (reference %d MiB), peak resident %.0f MiB (VmHWM, %s; the file itself is %.0f MiB of it)",
			float64(len(data))/(1<<20), elapsed.Round(time.Millisecond), referenceTime, float64(peak)/(1<<20), referenceHeapMiB,
			float64(rss)/(1<<20), rssNote, float64(len(data))/(1<<20))
		db.Close()
		b.StartTimer()
	}
}
