package jobs

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// TestRetryPolicy_Backoff: the wait after each failed attempt doubles from
// one second up to the cap, each within ±20% jitter, measured on
// synctest's clock so it is exact.
func TestRetryPolicy_Backoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retryPolicy{max: 30 * time.Second}
		for attempt, base := range map[int]time.Duration{
			1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second,
			5: 16 * time.Second, 6: 30 * time.Second, 25: 30 * time.Second,
		} {
			lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
			spread := map[time.Duration]bool{}
			for range 50 {
				d := time.Until(p.NextRetry(&rivertype.JobRow{Attempt: attempt}))
				if d < lo || d > hi {
					t.Fatalf("attempt %d: next retry in %s, want %s to %s", attempt, d, lo, hi)
				}
				spread[d] = true
			}
			if len(spread) < 2 {
				t.Errorf("attempt %d: every retry comes back at the same moment (no jitter)", attempt)
			}
		}
	})
}
