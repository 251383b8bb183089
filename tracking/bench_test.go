package tracking_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/snowsim"
	"github.com/scorebridge/scorebridge/sqlstore"
	"github.com/scorebridge/scorebridge/tracking"
)

// BenchmarkTrack10000 tracks 10,000 tickets, changes 100 of them and
// prints the ServiceNow calls one sync made beside the least,
// ceil(k/page)+1, then the push latency (change made on the instance to
// change visible through the store the API reads) at the median and p99
// beside the 1 s aim.
//
//	go test -run '^$' -bench Track10000 -benchtime 1x ./tracking/
func BenchmarkTrack10000(b *testing.B) {
	const n, k = 10000, 100
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	bn := setupSim(b, tracking.Config{}, snowsim.Options{Clock: clock})
	ids := make([]string, n)
	sysIDs := make([]string, n)
	tickets := make([]*scorebridge.Ticket, n)
	for i := range n {
		tk := &scorebridge.Ticket{ID: fmt.Sprintf("t%05d", i), RecommendationIDs: []string{"x"}, Type: scorebridge.TicketIncident, Name: "Fix", Priority: 3, RequestedBy: "bench"}
		tickets[i], ids[i] = tk, tk.ID
	}
	if err := bn.tickets.InsertTickets(bn.ctx, tickets, func(context.Context, sqlstore.TicketTx, []string) error { return nil }); err != nil {
		b.Fatal(err)
	}
	for i, tk := range tickets {
		rec, err := bn.sim.Insert("incident", servicenow.TicketFields(tk, nil))
		if err != nil {
			b.Fatal(err)
		}
		sysIDs[i] = rec["sys_id"]
		if err := bn.tickets.MarkTicketSent(bn.ctx, tk.ID, sqlstore.TicketResult{Number: rec["number"], SysID: rec["sys_id"], State: "1", StateName: "New"}, nil); err != nil {
			b.Fatal(err)
		}
	}
	advance(10 * time.Minute)
	bn.sync(b) // the first sync reads everything once
	advance(10 * time.Minute)
	for i := 0; i < k; i++ {
		if _, err := bn.sim.Update("incident", sysIDs[i*(n/k)], map[string]string{"state": "2"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	res := bn.sync(b)
	b.StopTimer()
	if res.Applied != k {
		b.Fatalf("sync applied %d of %d changes", res.Applied, k)
	}
	b.ReportMetric(float64(res.Calls), "calls/sync")
	fmt.Printf("sync of %d tracked tickets with %d changes: %d ServiceNow calls (least ceil(k/page)+1 = %d, page %d)\n",
		n, k, res.Calls, tracking.MinCalls(k, tracking.DefaultPageSize), tracking.DefaultPageSize)

	// Push: the simulator's notify feature, signed as the business rule does.
	secret, err := bn.store.PushSecret(bn.ctx, "c1")
	if err != nil {
		b.Fatal(err)
	}
	applied := make(chan struct{}, 1024)
	relay := signer(b, secret, bn.receiver(applied))
	if err := bn.sim.SetNotifyURL(relay.URL); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for i := 0; i < k; i++ {
		id := ids[i*(n/k)]
		start := time.Now()
		advance(time.Second)
		if _, err := bn.sim.Update("incident", sysIDs[i*(n/k)], map[string]string{"state": "6", "close_code": "Solved (Permanently)", "close_notes": "done"}); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			<-applied
			if tk, err := bn.tickets.FindTicketByID(bn.ctx, id); err == nil && tk.State == "6" {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("push of %s not visible after 10 s", id)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	med, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(med.Microseconds())/1000, "ms-push-median")
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms-push-p99")
	fmt.Printf("push latency over %d changes: median %s, p99 %s (aim: under 1s)\n", k, med.Round(time.Millisecond), p99.Round(time.Millisecond))
}
