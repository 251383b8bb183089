package web

import (
	"context"

	"github.com/scorebridge/scorebridge"
)

// ticketCard is a home page card: "Change management tickets" or
// "Incident management tickets", as Microsoft's security center has them.
type ticketCard struct {
	Type scorebridge.TicketType
	// ID is the card's element id: ticket-card-change, ticket-card-incident.
	ID      string
	Title   string
	States  []ticketCardState
	Total   int
	Latest  []*scorebridge.Ticket
	ViewAll string
	// CreateURL is where a ticket is made: the to-do actions, to share.
	CreateURL string
	// ManageURL is the ServiceNow configuration: the default connection's
	// page, or the connections page (to connect) without one.
	ManageURL string
	// Connected is false when there is no ServiceNow connection yet, for
	// the empty state.
	Connected bool
}

// ticketCardState is one count of a card, linking to its tickets.
type ticketCardState struct {
	scorebridge.StateCount
	URL string
}

// homeTicketCards reads the cards with one summary call (counts from an
// index, the latest of each type from another). A failure leaves the cards
// out and is logged: the home page still shows the score.
func (s *Server) homeTicketCards(ctx context.Context, conn *connectionView) []ticketCard {
	if s.tracking == nil {
		return nil
	}
	sum, err := s.tracking.Summary(ctx)
	if err != nil {
		s.logger.ErrorContext(ctx, "ticket summary not read for the home page", "error", err.Error())
		return nil
	}
	manage := "/connections"
	if conn != nil {
		manage = "/connections/" + conn.ID
	}
	var cards []ticketCard
	for _, t := range []scorebridge.TicketType{scorebridge.TicketChange, scorebridge.TicketIncident} {
		c := ticketCard{Type: t, ID: "ticket-card-" + string(t), Title: t.Label() + " tickets",
			ViewAll:   ticketListURL(scorebridge.TicketFilter{Type: t}),
			CreateURL: "/actions?todo=true", ManageURL: manage, Connected: conn != nil}
		if ts := sum[t]; ts != nil {
			c.Total, c.Latest = ts.Total, ts.Latest
			for _, sc := range ts.ByState {
				st := ticketCardState{StateCount: sc}
				if sc.State != string(scorebridge.ClassDeleted) {
					st.URL = ticketListURL(scorebridge.TicketFilter{Type: t, State: sc.State, Status: scorebridge.TicketSent})
				}
				c.States = append(c.States, st)
			}
		}
		cards = append(cards, c)
	}
	return cards
}
