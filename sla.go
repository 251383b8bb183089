package scorebridge

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// SLA is how long a ticket may stay open, by priority: a ticket shared or
// made by a rule without a due date of its own gets today plus its
// priority's days. Past that date (and the grace days) it is overdue.
type SLA struct {
	// DueDays maps each priority (1 Critical ... 5 Planning) to the days a
	// ticket of that priority has.
	DueDays map[int]int `json:"dueDays"`
	// GraceDays are the days past the due date before a ticket counts as
	// overdue, so a ticket closed the morning after is not flagged.
	GraceDays int `json:"graceDays"`
	// OverdueWorkNote, when on, adds one work note to a ticket in
	// ServiceNow when it goes overdue.
	OverdueWorkNote bool `json:"overdueWorkNote"`

	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy string     `json:"updatedBy,omitempty"`
}

// SLA limits: a due date further than MaxSLADays is almost always a typo,
// and so is a grace longer than a month.
const (
	MaxSLADays      = 3650
	MaxSLAGraceDays = 31
)

// DefaultSLA is the SLA of a new center: P1 7 days, P2 14, P3 30, P4 90,
// P5 (Planning) 180, no grace, no work note.
func DefaultSLA() *SLA {
	return &SLA{DueDays: map[int]int{1: 7, 2: 14, 3: 30, 4: 90, 5: 180}}
}

// SLAPriorities are the priorities an SLA gives days to.
var SLAPriorities = []int{1, 2, 3, 4, 5}

// DueDate returns the due date, YYYY-MM-DD in UTC, of a ticket of
// priority p opened at now; "" when the SLA has no days for p.
func (s *SLA) DueDate(p int, now time.Time) string {
	d, ok := s.DueDays[p]
	if !ok || d <= 0 {
		return ""
	}
	return now.UTC().AddDate(0, 0, d).Format(DueDateLayout)
}

// OverdueBefore is the first due date that is not yet overdue at now: a
// ticket is overdue when its due date is earlier. A due date stands for
// the end of its day (UTC), and the grace days come on top.
func (s *SLA) OverdueBefore(now time.Time) string {
	return now.UTC().AddDate(0, 0, -s.GraceDays).Format(DueDateLayout)
}

// SLAUpdate changes some of the SLA: the priorities in DueDays, and the
// grace and work note when set.
type SLAUpdate struct {
	DueDays         map[int]int
	GraceDays       *int
	OverdueWorkNote *bool
}

// Validate returns EINVALID naming the first bad field ("dueDays.3",
// "graceDays").
func (u SLAUpdate) Validate() error {
	ps := make([]int, 0, len(u.DueDays))
	for p := range u.DueDays {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	for _, p := range ps {
		if p < 1 || p > 5 {
			return FieldErrorf("dueDays."+strconv.Itoa(p), "priority %d does not exist: priorities go from 1 (Critical) to 5 (Planning)", p)
		}
		if d := u.DueDays[p]; d < 1 || d > MaxSLADays {
			return FieldErrorf("dueDays."+strconv.Itoa(p), "P%d's due days must be a whole number from 1 to %d (got %d)", p, MaxSLADays, d)
		}
	}
	if u.GraceDays != nil && (*u.GraceDays < 0 || *u.GraceDays > MaxSLAGraceDays) {
		return FieldErrorf("graceDays", "grace days must be a whole number from 0 to %d (got %d)", MaxSLAGraceDays, *u.GraceDays)
	}
	if len(u.DueDays) == 0 && u.GraceDays == nil && u.OverdueWorkNote == nil {
		return FieldErrorf("dueDays", "send the SLA members to change: dueDays, graceDays or overdueWorkNote")
	}
	return nil
}

// Apply returns s with the update made.
func (s *SLA) Apply(u SLAUpdate) *SLA {
	out := &SLA{DueDays: map[int]int{}, GraceDays: s.GraceDays, OverdueWorkNote: s.OverdueWorkNote}
	for p, d := range s.DueDays {
		out.DueDays[p] = d
	}
	for p, d := range u.DueDays {
		out.DueDays[p] = d
	}
	if u.GraceDays != nil {
		out.GraceDays = *u.GraceDays
	}
	if u.OverdueWorkNote != nil {
		out.OverdueWorkNote = *u.OverdueWorkNote
	}
	return out
}

// SLAService keeps the SLA. Each change is audited with the change.
type SLAService interface {
	// SLA returns the SLA in force (DefaultSLA's values for what was never
	// set).
	SLA(ctx context.Context) (*SLA, error)
	// UpdateSLA changes it. Returns EINVALID naming the bad field.
	UpdateSLA(ctx context.Context, u SLAUpdate) (*SLA, error)
}

// OverdueTicket is a ticket found past its due date, as the overdue
// check reports it.
type OverdueTicket struct {
	TicketID string     `json:"ticketId"`
	Number   string     `json:"number"`
	Type     TicketType `json:"type"`
	DueDate  string     `json:"dueDate"`
	// WorkNote says a work note was queued for it.
	WorkNote bool `json:"workNote"`
}

// OverdueNote is the work note an overdue ticket gets in ServiceNow.
func OverdueNote(due string, graceDays int) string {
	s := "scorebridge: this ticket passed its due date (" + due + ")"
	if graceDays > 0 {
		s += fmt.Sprintf(" and the %d grace day(s) after it", graceDays)
	}
	return s + " and is still open. The security improvement action it covers is not done yet."
}

// CloseTime is how long tickets of one category took from being opened in
// ServiceNow to being resolved: the median and the 90th percentile.
type CloseTime struct {
	Category Category      `json:"category"`
	Tickets  int           `json:"tickets"`
	Median   time.Duration `json:"median"`
	P90      time.Duration `json:"p90"`
}

// CloseBucket is how many tickets of a category took a close time in the
// bucket starting at Lower: kept by the store as tickets finish, so the
// close times are read from a few rows however many tickets there are.
type CloseBucket struct {
	Category Category
	Lower    time.Duration
	Tickets  int
}

// CloseTimeBucket is the bucket a close time falls in, as the store keeps
// it: to the hour under two days and to the tenth of a day after, which is
// as precise as the page shows a close time.
func CloseTimeBucket(d time.Duration) time.Duration {
	if d < 48*time.Hour {
		return d.Truncate(time.Hour)
	}
	return d.Truncate(24 * time.Hour / 10)
}

// CloseTimesFromBuckets is CloseTimes over kept buckets: the same
// nearest-rank percentiles, each the lower bound of the bucket the rank
// falls in, so a duration a ticket really took, to the bucket's precision.
func CloseTimesFromBuckets(buckets []CloseBucket) []CloseTime {
	byCategory := map[Category][]CloseBucket{}
	var order []Category
	for _, b := range buckets {
		if b.Tickets <= 0 {
			continue
		}
		if _, ok := byCategory[b.Category]; !ok {
			order = append(order, b.Category)
		}
		byCategory[b.Category] = append(byCategory[b.Category], b)
	}
	var out []CloseTime
	for _, c := range categoryOrder(order) {
		bs := byCategory[c]
		sort.Slice(bs, func(i, j int) bool { return bs[i].Lower < bs[j].Lower })
		n := 0
		for _, b := range bs {
			n += b.Tickets
		}
		out = append(out, CloseTime{Category: c, Tickets: n, Median: bucketRank(bs, n, 50), P90: bucketRank(bs, n, 90)})
	}
	return out
}

// bucketRank is the p-th nearest-rank percentile of n durations in sorted
// buckets.
func bucketRank(sorted []CloseBucket, n, p int) time.Duration {
	rank := max((p*n+99)/100, 1)
	seen := 0
	for _, b := range sorted {
		seen += b.Tickets
		if seen >= rank {
			return b.Lower
		}
	}
	return sorted[len(sorted)-1].Lower
}

// categoryOrder puts categories in the order of Categories, any others
// after them by name: the order CloseTimes reports in.
func categoryOrder(cs []Category) []Category {
	have := map[Category]bool{}
	for _, c := range cs {
		have[c] = true
	}
	var out []Category
	for _, c := range Categories {
		if have[c] {
			out = append(out, c)
			delete(have, c)
		}
	}
	var rest []string
	for c := range have {
		rest = append(rest, string(c))
	}
	sort.Strings(rest)
	for _, c := range rest {
		out = append(out, Category(c))
	}
	return out
}

// SLAReports are the figures the SLA is judged by: how many tickets are
// overdue and how long tickets take to close.
type SLAReports interface {
	// CountOverdue counts the open tickets whose due date is before
	// before (SLA.OverdueBefore).
	CountOverdue(ctx context.Context, before string) (int, error)
	// CloseTimes returns the time to close per category.
	CloseTimes(ctx context.Context) ([]CloseTime, error)
}
