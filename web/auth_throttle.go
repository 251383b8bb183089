package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Throttle limits failed sign-ins, counted from the audit log so that every
// replica sees the same failures. Zero fields take the defaults.
type Throttle struct {
	// PerAccount is how many failures one name may have in Window. Default 5.
	PerAccount int
	// PerAddress is how many failures one address may have in Window, across
	// names. Default 20.
	PerAddress int
	// Window is the period failures are counted over. Default 15 minutes.
	Window time.Duration
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
}

// outcomeThrottled marks a sign-in refused without checking the password.
// It is not counted as a failure, so the lock ends Window after the last
// real failure.
const outcomeThrottled = "throttled"

// checkThrottle returns ETOOMANYREQUEST when the name or the address had
// too many failed sign-ins lately. Without an audit log there is nothing to
// count and sign-in is refused, rather than left unthrottled.
func (s *Server) checkThrottle(r *http.Request, name string) error {
	if s.audit == nil {
		return scorebridge.Errorf(scorebridge.EINTERNAL, "sign-in needs the audit log for throttling")
	}
	since := s.auth.Now().Add(-s.auth.Throttle.Window)
	base := scorebridge.AuditFilter{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure, Since: since}
	byName, byAddr := base, base
	byName.Actor = name
	byAddr.Address = clientAddress(r)
	n, err := s.audit.CountAuditEvents(r.Context(), byName)
	if err != nil {
		return err
	}
	m, err := s.audit.CountAuditEvents(r.Context(), byAddr)
	if err != nil {
		return err
	}
	if n >= s.auth.Throttle.PerAccount || m >= s.auth.Throttle.PerAddress {
		return scorebridge.Errorf(scorebridge.ETOOMANYREQUEST,
			"Too many failed sign-ins. Wait %d minutes and try again.", int(s.auth.Throttle.Window.Minutes()))
	}
	return nil
}

// String says the limits in words, for the start-up log.
func (t Throttle) String() string {
	return fmt.Sprintf("%d per account, %d per address in %v", t.PerAccount, t.PerAddress, t.Window)
}
