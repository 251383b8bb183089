// Package clocktest holds the settable clock tests hand to the stores, the
// services and the simulator in place of time.Now, so they can make tokens
// expire and days pass without waiting.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when a test says. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock showing now.
func New(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time; its method value stands in for time.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
