package web

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Throttle limits failed sign-ins, counted from the audit log so that every
// replica sees the same failures, and how many password checks run at once.
// Zero fields take the defaults.
type Throttle struct {
	// PerAccount is how many failures one name may have in Window. Default 5.
	PerAccount int
	// PerAddress is how many failures one address may have in Window, across
	// names. Default 20.
	PerAddress int
	// Window is the period failures are counted over. Default 15 minutes.
	Window time.Duration
	// ConcurrentPerAccount is how many password checks of one name run at
	// once. Default 1: attempts on an account are checked one after the
	// other, each seeing the failures before it.
	ConcurrentPerAccount int
	// ConcurrentPerAddress is how many password checks from one address run
	// at once. Default 2.
	ConcurrentPerAddress int
	// Concurrent is how many password checks run at once in all, so bcrypt
	// cannot take every CPU. Default the number of CPUs usable, at least 2.
	Concurrent int
	// ConcurrencyWait is how long an attempt waits for a check to be free
	// before it is refused as too many at once. Default 10 seconds.
	ConcurrencyWait time.Duration
}

func (t *Throttle) defaults() {
	if t.PerAccount <= 0 {
		t.PerAccount = 5
	}
	if t.PerAddress <= 0 {
		t.PerAddress = 20
	}
	if t.Window <= 0 {
		t.Window = 15 * time.Minute
	}
	if t.ConcurrentPerAccount <= 0 {
		t.ConcurrentPerAccount = 1
	}
	if t.ConcurrentPerAddress <= 0 {
		t.ConcurrentPerAddress = 2
	}
	if t.Concurrent <= 0 {
		t.Concurrent = max(2, runtime.GOMAXPROCS(0))
	}
	if t.ConcurrencyWait <= 0 {
		t.ConcurrencyWait = 10 * time.Second
	}
}

// outcomeThrottled marks a sign-in refused without checking the password.
// It is not counted as a failure, so the lock ends Window after the last
// real failure.
const outcomeThrottled = "throttled"

// recentFailures counts the failed sign-ins of a name and of an address in
// the throttle's window. Without an audit log there is nothing to count and
// sign-in is refused, rather than left unthrottled.
func (s *Server) recentFailures(ctx context.Context, name, addr string) (byName, byAddr int, err error) {
	if s.audit == nil {
		return 0, 0, scorebridge.Errorf(scorebridge.EINTERNAL, "sign-in needs the audit log for throttling")
	}
	since := s.auth.Now().Add(-s.auth.Throttle.Window)
	base := scorebridge.AuditFilter{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure, Since: since}
	fName, fAddr := base, base
	fName.Actor = name
	fAddr.Address = addr
	if byName, err = s.audit.CountAuditEvents(ctx, fName); err != nil {
		return 0, 0, err
	}
	if byAddr, err = s.audit.CountAuditEvents(ctx, fAddr); err != nil {
		return 0, 0, err
	}
	return byName, byAddr, nil
}

// String says the limits in words, for the start-up log.
func (t Throttle) String() string {
	return fmt.Sprintf("%d per account, %d per address in %v; %d checks at once (%d per account, %d per address)",
		t.PerAccount, t.PerAddress, t.Window, t.Concurrent, t.ConcurrentPerAccount, t.ConcurrentPerAddress)
}
