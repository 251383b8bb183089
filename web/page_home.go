package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// homeTopActions is how many of the most valuable to-do actions the home
// page lists.
const homeTopActions = 5

// homePage is the data of the home page.
type homePage struct {
	pageBase
	Score      scorebridge.Score
	History    []*scorebridge.ScoreSnapshot
	Sparkline  sparkline
	TopActions []*scorebridge.Recommendation
	// Connection is the default ServiceNow connection, nil when none.
	Connection *connectionView
	// Posture is the imported data: sources, regressions, the user
	// recommendations' own score; nil without a posture service.
	Posture *homePosture
	// SLA is the Overdue card and the time to close; nil without an SLA.
	SLA *homeSLA
	// TicketCards are the change and incident management cards; none
	// without ticket tracking.
	TicketCards []ticketCard
	// Drift is the Drift card's count; nil without drift.
	Drift *scorebridge.DriftCount
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	slot := s.views.slot(r, "home")
	if view := slot.kept(); view != nil {
		s.renderKept(w, r, view)
		return
	}
	ctx := r.Context()
	score, err := s.scores.CurrentScore(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	history, err := s.scores.ScoreHistory(ctx, defaultHistoryDays)
	if err != nil {
		s.error(w, r, err)
		return
	}
	top, _, err := s.recommendations.FindRecommendations(ctx, scorebridge.RecommendationFilter{
		ToDo: true, Sort: scorebridge.SortImpact, Limit: homeTopActions,
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	posture, err := s.homePosture(ctx, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	conn := s.homeConnection(ctx)
	s.renderKeeping(w, r, http.StatusOK, "home", &homePage{
		TicketCards: s.homeTicketCards(ctx, conn),
		Posture:     posture,
		pageBase:    pageBase{Title: "Secure Score", Nav: "home"},
		Score:       score,
		History:     history,
		Sparkline:   newSparkline(history),
		TopActions:  top,
		Connection:  conn,
		SLA:         s.homeSLA(ctx),
		Drift:       s.homeDrift(ctx),
	}, slot)
}

// sparkline is a percent-over-time line drawn as inline SVG: geometry in
// attributes, colours from the stylesheet, so the CSP needs no exception.
type sparkline struct {
	Width, Height int
	Points        string // polyline points, "x,y x,y ..."
	LastX, LastY  int    // the latest day, marked with a dot
}

func newSparkline(history []*scorebridge.ScoreSnapshot) sparkline {
	sl := sparkline{Width: 300, Height: 60}
	if len(history) == 0 {
		return sl
	}
	step := 0.0
	if len(history) > 1 {
		step = float64(sl.Width-4) / float64(len(history)-1)
	}
	var b strings.Builder
	for i, snap := range history {
		x := 2 + int(step*float64(i))
		y := sl.Height - 2 - int(snap.Score.Percent/100*float64(sl.Height-4))
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(x) + "," + strconv.Itoa(y))
		sl.LastX, sl.LastY = x, y
	}
	sl.Points = b.String()
	return sl
}
