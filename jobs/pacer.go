package jobs

import (
	"context"
	"sync"
	"time"
)

// pacer spaces one connection's requests evenly, so a known rate limit is
// not overrun even by many workers at once, and holds every worker back
// when the instance asks (429 Retry-After). It is a token bucket of depth
// one written out with the standard library: x/time/rate would pace, but it
// cannot pause everyone until a given moment.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time // earliest moment the next request may start
}

func newPacer(perSecond float64) *pacer {
	p := &pacer{}
	if perSecond > 0 {
		p.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return p
}

// Wait blocks until the caller may send one request, or ctx ends.
func (p *pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	p.next = slot.Add(p.interval)
	p.mu.Unlock()

	d := time.Until(slot)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PauseUntil keeps every request back until t.
func (p *pacer) PauseUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.next) {
		p.next = t
	}
}

// pacers hands out one pacer per connection.
type pacers struct {
	perSecond float64
	mu        sync.Mutex
	m         map[string]*pacer
}

func (ps *pacers) get(connectionID string) *pacer {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[string]*pacer{}
	}
	p, ok := ps.m[connectionID]
	if !ok {
		p = newPacer(ps.perSecond)
		ps.m[connectionID] = p
	}
	return p
}
