package jobs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The pacer's timing runs on synctest's clock: the waits are exact and no
// test waits for real time. The slots come from memoryPace, which keeps the
// bucket the way sqlstore.PaceStore does (tested there on both databases)
// but in memory, so its arithmetic runs on the same fake clock.

// memoryPace is a PaceStore in one process.
type memoryPace struct {
	mu   sync.Mutex
	next map[string]time.Time
}

func (m *memoryPace) ReservePace(ctx context.Context, id string, interval time.Duration) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next == nil {
		m.next = map[string]time.Time{}
	}
	now := time.Now()
	slot := m.next[id]
	if slot.Before(now) {
		slot = now
	}
	m.next[id] = slot.Add(interval)
	return slot.Sub(now), nil
}

func (m *memoryPace) PausePace(ctx context.Context, id string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next == nil {
		m.next = map[string]time.Time{}
	}
	if until := time.Now().Add(d); until.After(m.next[id]) {
		m.next[id] = until
	}
	return nil
}

func newPacer(perSecond float64) *pacer { return newPacers(perSecond, &memoryPace{}).get("c") }

// TestPacer_SpacesConcurrentCallers: callers at once leave one interval
// apart, in some order, whatever their number.
func TestPacer_SpacesConcurrentCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(10) // one request every 100 ms
		start := time.Now()
		var mu sync.Mutex
		var at []time.Duration
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if err := p.Wait(t.Context()); err != nil {
					t.Error(err)
				}
				mu.Lock()
				at = append(at, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(at)
		want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}
		if !slices.Equal(at, want) {
			t.Errorf("requests left at %v, want %v", at, want)
		}

		// After a quiet spell the next request leaves at once: the bucket
		// is one deep, unused slots are not saved up.
		time.Sleep(time.Second)
		before := time.Now()
		if err := p.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(before); d != 0 {
			t.Errorf("after a quiet second the request waited %s", d)
		}
	})
}

func pause(t *testing.T, p *pacer, d time.Duration) {
	t.Helper()
	if err := p.Pause(t.Context(), d); err != nil {
		t.Fatal(err)
	}
}

// TestPacer_PauseHoldsEveryone: a Retry-After holds back every
// caller until the moment given, then pacing resumes from there.
func TestPacer_PauseHoldsEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(10)
		start := time.Now()
		pause(t, p, 2*time.Second)
		pause(t, p, time.Second) // an earlier moment does not shorten the pause
		for i, want := range []time.Duration{2 * time.Second, 2100 * time.Millisecond} {
			if err := p.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != want {
				t.Errorf("request %d left at %s, want %s", i, got, want)
			}
		}
	})
}

// TestPacer_Unpaced: a zero or negative rate turns pacing off, but a
// pause asked by the instance still holds.
func TestPacer_Unpaced(t *testing.T) {
	for _, rate := range []float64{0, -1} {
		synctest.Test(t, func(t *testing.T) {
			p := newPacer(rate)
			start := time.Now()
			for range 100 {
				if err := p.Wait(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("rate %g: 100 requests took %s, want no wait", rate, d)
			}
			pause(t, p, 3*time.Second)
			if err := p.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != 3*time.Second {
				t.Errorf("rate %g: paused request left at %s, want 3s", rate, d)
			}
		})
	}
}

// TestPacer_WaitEndsWithItsContext: a caller whose context ends stops
// waiting at that moment with the context's error.
func TestPacer_WaitEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(1)
		pause(t, p, time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := p.Wait(ctx); err != context.DeadlineExceeded {
			t.Errorf("Wait = %v, want the deadline", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Wait returned after %s, want 5s", d)
		}
		cancel()
		if err := p.Wait(ctx); err == nil {
			t.Error("Wait with an ended context succeeded")
		}
	})
}

// TestPacers_OnePerConnection: connections are paced apart, each on its
// own bucket, and pacers of one connection (on two replicas, say) share
// theirs.
func TestPacers_OnePerConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &memoryPace{}
		ps, replica := newPacers(1, store), newPacers(1, store)
		start := time.Now()
		for _, p := range []*pacer{ps.get("a"), ps.get("b")} {
			if err := p.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the first request of a second connection waited %s for the first's", d)
		}
		if err := replica.get("a").Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("a second pacer of connection a let its request leave after %s, want 1s", d)
		}
	})
}
