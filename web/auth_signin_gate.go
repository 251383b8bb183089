package web

import (
	"context"
	"sync"
	"time"

	"github.com/scorebridge/scorebridge"
)

// signInGate counts a sign-in attempt before its password is checked and
// bounds how many password checks run at once, per account, per address
// and overall. Failures are counted from the audit log, which only holds a
// failure once its bcrypt check is over; without the gate, attempts sent
// at once would all be checked before any of them counted, and bcrypt
// could be used to exhaust the CPU.
//
// The counts of attempts in flight are this process's; across replicas
// each one's failures still reach the shared audit log.
type signInGate struct {
	mu      sync.Mutex
	byName  map[string]int
	byAddr  map[string]int
	total   int
	gen     uint64        // bumped on every release, so a stale count is read again
	changed chan struct{} // closed (and replaced) on every release
}

func newSignInGate() *signInGate {
	return &signInGate{byName: map[string]int{}, byAddr: map[string]int{}, changed: make(chan struct{})}
}

// errSignInBusy is the answer when no password check could start in time.
var errSignInBusy = scorebridge.Errorf(scorebridge.ETOOMANYREQUEST, "Too many sign-ins at once. Wait a moment and try again.")

// enter reserves a password check for name from addr. It returns
// ETOOMANYREQUEST when the failures already recorded plus the attempts in
// flight reach a limit, or when no check could start within
// Throttle.ConcurrencyWait. The caller checks the password, records a
// failure in the audit log, and only then calls release, so the next
// attempt counts it.
func (s *Server) enterSignIn(ctx context.Context, name, addr string) (release func(), err error) {
	g, t := s.signIns, &s.auth.Throttle
	timer := time.NewTimer(t.ConcurrencyWait)
	defer timer.Stop()
	for {
		g.mu.Lock()
		gen, changed := g.gen, g.changed
		g.mu.Unlock()
		failedName, failedAddr, err := s.recentFailures(ctx, name, addr)
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		if g.gen != gen {
			g.mu.Unlock()
			continue // an attempt ended while counting: its failure may be missing
		}
		if failedName+g.byName[name] >= t.PerAccount || failedAddr+g.byAddr[addr] >= t.PerAddress {
			g.mu.Unlock()
			return nil, scorebridge.Errorf(scorebridge.ETOOMANYREQUEST,
				"Too many failed sign-ins. Wait %d minutes and try again.", int(t.Window.Minutes()))
		}
		if g.byName[name] < t.ConcurrentPerAccount && g.byAddr[addr] < t.ConcurrentPerAddress && g.total < t.Concurrent {
			g.byName[name]++
			g.byAddr[addr]++
			g.total++
			g.mu.Unlock()
			return func() { g.release(name, addr) }, nil
		}
		g.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return nil, errSignInBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (g *signInGate) release(name, addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byName[name]--; g.byName[name] <= 0 {
		delete(g.byName, name)
	}
	if g.byAddr[addr]--; g.byAddr[addr] <= 0 {
		delete(g.byAddr, addr)
	}
	g.total--
	g.gen++
	close(g.changed)
	g.changed = make(chan struct{})
}
