package jobs

import (
	"context"
	"fmt"
	"time"
)

// PaceStore keeps the pace towards each connection where every replica
// sees it: a token bucket of depth one, the moment the next request may
// start. sqlstore.PaceStore keeps it in the database, so replicas together
// keep to the instance's rate; a store of one process's own would let two
// replicas send twice it.
type PaceStore interface {
	// ReservePace takes the connection's next slot, interval after the
	// one before (or now, if that has passed) and returns how long until
	// it begins.
	ReservePace(ctx context.Context, connectionID string, interval time.Duration) (time.Duration, error)
	// PausePace holds the connection's requests back for d from now,
	// never shortening a pause in place.
	PausePace(ctx context.Context, connectionID string, d time.Duration) error
}

// pacer spaces one connection's requests evenly, so a known rate limit is
// not overrun even by many workers on many replicas at once, and holds
// every worker back when the instance asks (429 Retry-After). The slots
// come from the PaceStore; the pacer only waits for its own.
type pacer struct {
	interval     time.Duration
	connectionID string
	store        PaceStore
}

// Wait blocks until the caller may send one request, or ctx ends.
func (p *pacer) Wait(ctx context.Context) error {
	d, err := p.store.ReservePace(ctx, p.connectionID, p.interval)
	if err != nil {
		return err
	}
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

// Pause keeps every request of the connection back for d.
func (p *pacer) Pause(ctx context.Context, d time.Duration) error {
	if err := p.store.PausePace(ctx, p.connectionID, d); err != nil {
		return fmt.Errorf("hold requests back after a rate limit: %w", err)
	}
	return nil
}

// pacers hands out the pacer of each connection, all at one rate.
type pacers struct {
	interval time.Duration
	store    PaceStore
}

// newPacers paces perSecond requests a second per connection; zero or
// less sends at once, though a pause the instance asks for still holds.
func newPacers(perSecond float64, store PaceStore) *pacers {
	ps := &pacers{store: store}
	if perSecond > 0 {
		ps.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return ps
}

func (ps *pacers) get(connectionID string) *pacer {
	return &pacer{interval: ps.interval, connectionID: connectionID, store: ps.store}
}
