package jobs

import "github.com/riverqueue/river"

// Subscribe returns River's events of the given kinds for the jobs this
// runner works (a ticket sent, failed, cancelled or snoozed) and a function
// that ends the subscription; see river.Client.Subscribe. Whoever waits on
// a job's outcome (a test, a live page) waits on these instead of polling.
func (r *Runner) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	if r.pg != nil {
		return r.pg.Subscribe(kinds...)
	}
	return r.sqlite.Subscribe(kinds...)
}
