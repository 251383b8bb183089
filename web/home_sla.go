package web

import (
	"context"
	"fmt"
	"time"

	"github.com/scorebridge/scorebridge"
)

// homeSLA is the home page's Overdue card and the time tickets take to
// close, with the SLA's grace days.
type homeSLA struct {
	Overdue   int
	GraceDays int
	Close     []closeRow
}

// closeRow is one category's time to close, in words.
type closeRow struct {
	Category       scorebridge.Category
	Tickets        int
	Median, P90    string
	MedianDuration time.Duration
}

// homeSLA reads the overdue count and the close times; nil without SLA
// reports. A failure is logged and leaves the cards out: the score page
// still shows.
func (s *Server) homeSLA(ctx context.Context) *homeSLA {
	if s.slaReports == nil || s.sla == nil {
		return nil
	}
	sla, err := s.sla.SLA(ctx)
	if err != nil {
		s.logger.Error("SLA not read for the home page", "error", err)
		return nil
	}
	out := &homeSLA{GraceDays: sla.GraceDays}
	if out.Overdue, err = s.slaReports.CountOverdue(ctx, sla.OverdueBefore(time.Now())); err != nil {
		s.logger.Error("overdue tickets not counted", "error", err)
		return nil
	}
	times, err := s.slaReports.CloseTimes(ctx)
	if err != nil {
		s.logger.Error("close times not read", "error", err)
		return nil
	}
	for _, c := range times {
		out.Close = append(out.Close, closeRow{Category: c.Category, Tickets: c.Tickets, Median: closeDuration(c.Median), P90: closeDuration(c.P90), MedianDuration: c.Median})
	}
	return out
}

// closeDuration says a time to close the way a person reads it: hours
// under two days, days after.
func closeDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "under an hour"
	case d < 48*time.Hour:
		return fmt.Sprintf("%.0f hours", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}
