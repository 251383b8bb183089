package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/internal/dbtest"
	"github.com/scorebridge/scorebridge/jobs"
	"github.com/scorebridge/scorebridge/snowsim"
)

// BenchmarkTickets1000 creates 1,000 tickets against the simulator with
// 50 ms of latency on every call and a limit of 50 requests per second, and
// reports the time against the bound the limit sets (1,000 / 50 = 20 s).
// Run it with: go test -run '^$' -bench Tickets1000 -benchtime 1x ./jobs/
func BenchmarkTickets1000(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchTickets(b, "") })
	if dsn := dbtest.PostgresURL(); dsn != "" {
		b.Run("postgres", func(b *testing.B) { benchTickets(b, dbtest.PostgresSchema(b, dsn, "jobs")) })
	}
}

func benchTickets(b *testing.B, dsn string) {
	const (
		tickets = 1000
		limit   = 50.0
		latency = 50 * time.Millisecond
	)
	bound := time.Duration(float64(tickets) / limit * float64(time.Second))
	for range b.N {
		b.StopTimer()
		bd := setup(b, setupOpts{dsn: dsn, config: func(c *jobs.Config) {
			c.RequestsPerSecond = limit
			c.Workers = 20
		}})
		if err := bd.sim.SetFaults(snowsim.Faults{Latency: latency}); err != nil {
			b.Fatal(err)
		}
		if err := bd.sim.SetRateLimitPerSecond(limit); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for i := 0; i < tickets; i += scorebridge.MaxTicketsPerBatch {
			var reqs []*scorebridge.TicketRequest
			for j := 0; j < scorebridge.MaxTicketsPerBatch; j++ {
				reqs = append(reqs, &scorebridge.TicketRequest{
					RecommendationIDs: []string{"mfa-admins"}, Type: scorebridge.TicketIncident,
					Name: fmt.Sprintf("Ticket %d", i+j), Priority: 3,
				})
			}
			if _, err := bd.tickets.CreateTickets(bd.ctx, reqs); err != nil {
				b.Fatal(err)
			}
		}
		for {
			queued, err := bd.tickets.FindTickets(bd.ctx, scorebridge.TicketFilter{Status: scorebridge.TicketQueued, Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			if len(queued) == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()

		sent, err := bd.tickets.FindTickets(bd.ctx, scorebridge.TicketFilter{Status: scorebridge.TicketSent, Limit: tickets})
		if err != nil {
			b.Fatal(err)
		}
		recs, err := bd.sim.Query("incident", "correlation_display=scorebridge")
		if err != nil {
			b.Fatal(err)
		}
		if len(sent) != tickets || len(recs) != tickets {
			b.Fatalf("%d tickets sent, %d incidents on the instance, want %d", len(sent), len(recs), tickets)
		}
		ratio := elapsed.Seconds() / bound.Seconds()
		b.ReportMetric(elapsed.Seconds(), "s/1000tickets")
		b.ReportMetric(ratio, "x-bound")
		b.Logf("%d tickets in %.2fs; the rate limit's bound is %.0fs; ratio %.3fx", tickets, elapsed.Seconds(), bound.Seconds(), ratio)
	}
}
