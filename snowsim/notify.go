package snowsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Outbound notifications: the simulator's stand-in for an after insert/update
// business rule on task that calls sn_ws.RESTMessageV2.executeAsync(). Every
// committed insert or update of a task record (task, incident,
// change_request) is POSTed as JSON to the notify URL:
//
//	{"table":"incident","operation":"update","sys_id":"...","sys_mod_count":"3",
//	 "sys_updated_on":"2026-11-25 10:00:00","record":{"number":"INC0010001",...}}
//
// record holds every field of the record with raw, all-string values, as
// current.getValue() would give them. Deliveries run on a small pool of
// goroutines, so they can arrive out of order, as async business rules do;
// NotifyMaxDelay holds each one back by a random delay to make that likely.
// The Table API never waits for a delivery. Instance.Close stops the
// notifier: deliveries still delayed, backing off or in flight are given up
// (counted as failed), and Close returns once their goroutines have.
//
// Retries: executeAsync itself does not retry, but the outbound queue of a
// real instance often sits behind a retry policy, and a receiver must cope
// with duplicates either way. The simulator retries a delivery that fails
// (no connection, 429 or 5xx) up to NotifyAttempts times in all, waiting
// 250 ms, 500 ms, 1 s, ... between attempts; a 2xx, or any other 4xx, ends it.
// Only the notify URL's own failures count against a delivery: when the
// queue holds more than maxPendingNotifications, new events are dropped and
// counted in NotificationStats.

// maxPendingNotifications bounds the deliveries waiting for a worker.
const maxPendingNotifications = 10000

// Notification is the JSON body of one outbound notification.
type Notification struct {
	Table        string `json:"table"`
	Operation    string `json:"operation"` // "insert" or "update"
	SysID        string `json:"sys_id"`
	SysModCount  string `json:"sys_mod_count"`
	SysUpdatedOn string `json:"sys_updated_on"`
	Record       Record `json:"record"`
}

// NotificationStats counts outbound notifications since the instance started.
type NotificationStats struct {
	Queued    int64 // events accepted for delivery
	Delivered int64 // answered with a 2xx
	Failed    int64 // given up after the last attempt or refused with a 4xx
	Dropped   int64 // not queued because the queue was full
	Attempts  int64 // HTTP requests made, retries included
}

type notifier struct {
	client *http.Client
	sem    chan struct{} // one slot per worker

	// ctx ends when the instance closes; delays, back-offs and requests
	// give up then, so Close does not wait out a NotifyMaxDelay.
	ctx    context.Context
	cancel context.CancelFunc

	// inflight counts deliveries not finished; idle is signalled when it
	// drops to zero. (A WaitGroup may not be added to while waited on.)
	flightMu sync.Mutex
	inflight int
	idle     *sync.Cond

	mu       sync.Mutex
	url      string
	maxDelay time.Duration
	attempts int
	rng      *rand.Rand

	pending                                       atomic.Int64
	queued, delivered, failed, dropped, attempted atomic.Int64
}

func newNotifier(k Knobs) *notifier {
	workers := k.NotifyWorkers
	if workers <= 0 {
		workers = 4
	}
	attempts := k.NotifyAttempts
	if attempts <= 0 {
		attempts = 3
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &notifier{
		ctx: ctx, cancel: cancel,
		client:   &http.Client{Timeout: 10 * time.Second},
		sem:      make(chan struct{}, workers),
		url:      k.NotifyURL,
		maxDelay: k.NotifyMaxDelay,
		attempts: attempts,
		rng:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	n.idle = sync.NewCond(&n.flightMu)
	return n
}

func (n *notifier) begin() {
	n.flightMu.Lock()
	n.inflight++
	n.flightMu.Unlock()
}

func (n *notifier) end() {
	n.flightMu.Lock()
	n.inflight--
	if n.inflight == 0 {
		n.idle.Broadcast()
	}
	n.flightMu.Unlock()
}

// checkNotifyURL accepts an absolute http or https URL, or "" for none.
func checkNotifyURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("snowsim: notify URL %q is not an absolute http or https URL", u)
	}
	return nil
}

// onWrite is registered with Instance.OnWrite; it runs on the writer's
// goroutine and only hands the event over.
func (n *notifier) onWrite(in *Instance, ev WriteEvent) {
	if ev.Operation != "insert" && ev.Operation != "update" {
		return
	}
	t := in.tables[ev.Table]
	if t == nil || !isTask(t) {
		return
	}
	n.mu.Lock()
	target, maxDelay := n.url, n.maxDelay
	var delay time.Duration
	if maxDelay > 0 {
		delay = time.Duration(n.rng.Int64N(int64(maxDelay)))
	}
	attempts := n.attempts
	n.mu.Unlock()
	if target == "" || n.ctx.Err() != nil {
		return
	}
	if n.pending.Add(1) > maxPendingNotifications {
		n.pending.Add(-1)
		n.dropped.Add(1)
		return
	}
	body, err := json.Marshal(Notification{
		Table: ev.Table, Operation: ev.Operation, SysID: ev.Record["sys_id"],
		SysModCount: ev.Record["sys_mod_count"], SysUpdatedOn: ev.Record["sys_updated_on"],
		Record: ev.Record,
	})
	if err != nil {
		n.pending.Add(-1)
		n.failed.Add(1)
		return
	}
	n.queued.Add(1)
	n.begin()
	go func() {
		defer n.end()
		defer n.pending.Add(-1)
		select {
		case n.sem <- struct{}{}:
		case <-n.ctx.Done():
			n.failed.Add(1)
			return
		}
		defer func() { <-n.sem }()
		if !n.wait(delay) {
			n.failed.Add(1)
			return
		}
		n.deliver(target, body, attempts)
	}()
}

func (n *notifier) deliver(target string, body []byte, attempts int) {
	backoff := 250 * time.Millisecond
	for i := 1; ; i++ {
		n.attempted.Add(1)
		retry, err := n.post(target, body)
		if err == nil {
			n.delivered.Add(1)
			return
		}
		if !retry || i >= attempts || !n.wait(backoff) {
			n.failed.Add(1)
			return
		}
		backoff *= 2
	}
}

// wait sleeps for d and reports false if the notifier stopped first.
func (n *notifier) wait(d time.Duration) bool {
	if d <= 0 {
		return n.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-n.ctx.Done():
		return false
	}
}

// stop cancels pending delays, retries and requests, and waits for every
// delivery goroutine to return. Deliveries cut short count as failed.
func (n *notifier) stop() {
	n.cancel()
	n.flightMu.Lock()
	for n.inflight > 0 {
		n.idle.Wait()
	}
	n.flightMu.Unlock()
}

// post sends one attempt and says whether a failure is worth retrying.
func (n *notifier) post(target string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ServiceNow/1.0 (snowsim outbound REST)")
	resp, err := n.client.Do(req)
	if err != nil {
		return true, err
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, errors.New(resp.Status)
	}
	return false, errors.New(resp.Status)
}

// SetNotifyURL changes where notifications go ("" stops them); it is safe
// while serving. Deliveries already queued keep their URL.
func (in *Instance) SetNotifyURL(u string) error {
	if err := checkNotifyURL(u); err != nil {
		return err
	}
	n := in.ext.outbound
	n.mu.Lock()
	defer n.mu.Unlock()
	n.url = u
	return nil
}

// SetNotifyMaxDelay holds each later delivery back by a random delay below
// d, to shuffle their order on purpose; 0 sends at once.
func (in *Instance) SetNotifyMaxDelay(d time.Duration) {
	n := in.ext.outbound
	n.mu.Lock()
	defer n.mu.Unlock()
	n.maxDelay = max(d, 0)
}

// NotificationStats returns the outbound notification counters.
func (in *Instance) NotificationStats() NotificationStats {
	n := in.ext.outbound
	return NotificationStats{
		Queued: n.queued.Load(), Delivered: n.delivered.Load(), Failed: n.failed.Load(),
		Dropped: n.dropped.Load(), Attempts: n.attempted.Load(),
	}
}

// WaitNotifications waits until every queued notification has been
// delivered or given up, or ctx ends. Shut down the HTTP server first so no
// new writes keep it waiting.
func (in *Instance) WaitNotifications(ctx context.Context) error {
	n := in.ext.outbound
	done := make(chan struct{})
	go func() {
		n.flightMu.Lock()
		for n.inflight > 0 {
			n.idle.Wait()
		}
		n.flightMu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
