package connection_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkConnectedInstance measures what every ticket job pays to reach
// the instance when the token is fresh: one indexed read of the connection
// and the cached token, with callers running in parallel.
func BenchmarkConnectedInstance(b *testing.B) {
	bb := setup(b)
	bb.connected(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bb.svc.ConnectedInstance(ctx, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRefreshUnderContention measures a token refresh while 16 callers
// want the instance at the same moment: one refresh over HTTP to the
// simulator and its store write, shared by all. refreshes/op must stay 1.
func BenchmarkRefreshUnderContention(b *testing.B) {
	bb := setup(b)
	bb.connected(b)
	ctx := context.Background()
	const callers = 16
	start := bb.tokenN.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bb.clock.Advance(31 * time.Minute)
		b.StartTimer()
		var wg sync.WaitGroup
		for j := 0; j < callers; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := bb.svc.ConnectedInstance(ctx, ""); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(bb.tokenN.Load()-start)/float64(b.N), "refreshes/op")
}
