package web

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
)

// countingAccounts counts the password checks made and the most that ran
// at once: the stand-in at the AccountService interface, around the real
// store.
type countingAccounts struct {
	scorebridge.AccountService
	checks, running, most atomic.Int32
	// fifth is closed when the fifth check starts.
	fifth chan struct{}
}

func (c *countingAccounts) Authenticate(ctx context.Context, name, password string) (*scorebridge.Account, error) {
	if c.checks.Add(1) == 5 && c.fifth != nil {
		close(c.fifth)
	}
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			break
		}
	}
	return c.AccountService.Authenticate(ctx, name, password)
}

// Forty sign-ins sent at once from one address: only as many passwords are
// checked as the account's limit allows, one at a time, and the right
// password sent once the limit is reached is refused like the rest.
func TestSignInThrottleHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	counter := &countingAccounts{fifth: make(chan struct{})}
	b := setupSecure(t, secOptions{
		throttle: Throttle{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute},
		accounts: func(a scorebridge.AccountService) scorebridge.AccountService {
			counter.AccountService = a
			return counter
		},
	})
	start := make(chan struct{})
	var wg sync.WaitGroup
	statuses := make([]int, 40)
	for i := range 39 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, _ := b.login(t, "operator-person", "wrong password number")
			statuses[i] = r.StatusCode
		}()
	}
	var correct *http.Cookie
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		// The fortieth, with the right password, goes once the limit's
		// worth of attempts are under way.
		<-counter.fifth
		var r *response
		r, correct = b.login(t, "operator-person", securityPassword)
		statuses[39] = r.StatusCode
	}()
	close(start)
	wg.Wait()

	if n := counter.checks.Load(); n != 5 {
		t.Errorf("%d passwords checked, want the limit of 5", n)
	}
	if m := counter.most.Load(); m != 1 {
		t.Errorf("%d checks of one account ran at once, want 1", m)
	}
	if correct != nil || statuses[39] != http.StatusTooManyRequests {
		t.Errorf("the right password after the limit: status %d, session %v; want 429 and none", statuses[39], correct)
	}
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != 35 {
		t.Errorf("statuses %v, want 5 x 401 and 35 x 429", counts)
	}
	if n, _ := b.audit.CountAuditEvents(context.Background(), scorebridge.AuditFilter{Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure}); n != 5 {
		t.Errorf("%d failures audited, want 5", n)
	}
}

// Sign-ins under many names from one address stop at the address's limit,
// however many run at once, and no more than the bound run together.
func TestSignInThrottlePerAddressUnderConcurrency(t *testing.T) {
	t.Parallel()
	counter := &countingAccounts{}
	b := setupSecure(t, secOptions{
		throttle: Throttle{PerAccount: 5, PerAddress: 8, Window: 15 * time.Minute, ConcurrentPerAddress: 3},
		accounts: func(a scorebridge.AccountService) scorebridge.AccountService {
			counter.AccountService = a
			return counter
		},
	})
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b.login(t, "someone-"+string(rune('a'+i)), "wrong password number")
		}()
	}
	close(start)
	wg.Wait()
	if n := counter.checks.Load(); n != 8 {
		t.Errorf("%d passwords checked, want the address's limit of 8", n)
	}
	if m := counter.most.Load(); m > 3 {
		t.Errorf("%d checks from one address ran at once, want at most 3", m)
	}
}
