package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/internal/clocktest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	c := clocktest.New(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %s", c.Now())
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute) })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(10 * time.Minute)) {
		t.Errorf("after ten concurrent minutes: %s", got)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("Set: %s", c.Now())
	}
}
