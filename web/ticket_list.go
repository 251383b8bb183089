package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// ticketPageLimit is the tickets page's page size.
const ticketPageLimit = 25

// ticketFilterParams are the query parameters the tickets list and
// GET /api/v1/tickets understand.
var ticketFilterParams = []string{"recommendationId", "type", "state", "status", "category", "connectionId", "assignee", "overdue", "q", "sort", "limit", "cursor"}

// parseTicketFilter reads a ticket filter from query parameters and checks
// it with the domain's Validate. strict (the API) also refuses unknown and
// repeated parameters, so a typo such as "stauts" is reported instead of
// silently listing everything.
func parseTicketFilter(q url.Values, strict bool) (scorebridge.TicketFilter, error) {
	var f scorebridge.TicketFilter
	if strict {
		if err := strictParams(q, ticketFilterParams); err != nil {
			return f, err
		}
	}
	f.RecommendationID = q.Get("recommendationId")
	f.Type = scorebridge.TicketType(strings.TrimSpace(q.Get("type")))
	f.State = strings.TrimSpace(q.Get("state"))
	f.Status = scorebridge.TicketStatus(strings.TrimSpace(q.Get("status")))
	f.Category = scorebridge.Category(strings.TrimSpace(q.Get("category")))
	f.ConnectionID = strings.TrimSpace(q.Get("connectionId"))
	f.Assignee = strings.TrimSpace(q.Get("assignee"))
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, scorebridge.FieldErrorf("overdue", "overdue must be true or false (got %q)", v)
		}
		f.Overdue = b
	}
	f.Query = strings.TrimSpace(q.Get("q"))
	f.Sort = q.Get("sort")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > scorebridge.MaxTicketPage {
			return f, scorebridge.FieldErrorf("limit", "limit must be a whole number from 1 to %d (got %q)", scorebridge.MaxTicketPage, v)
		}
		f.Limit = n
	}
	f.Cursor = q.Get("cursor")
	if err := f.Validate(); err != nil {
		return f, err
	}
	return f.Normalized(), nil
}

// ticketFilterQuery encodes a filter back into query parameters, leaving
// out the defaults, for links that keep the current view (sort, next
// page, a card's "View all").
func ticketFilterQuery(f scorebridge.TicketFilter) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("recommendationId", f.RecommendationID)
	set("type", string(f.Type))
	set("state", f.State)
	set("status", string(f.Status))
	set("category", string(f.Category))
	set("connectionId", f.ConnectionID)
	set("assignee", f.Assignee)
	if f.Overdue {
		q.Set("overdue", "true")
	}
	set("q", f.Query)
	if f.Sort != scorebridge.TicketSortCreated {
		set("sort", f.Sort)
	}
	return q
}

// ticketListURL is the tickets page showing filter.
func ticketListURL(f scorebridge.TicketFilter) string {
	if q := ticketFilterQuery(f).Encode(); q != "" {
		return "/tickets?" + q
	}
	return "/tickets"
}

// ticketListPage is the data of the tickets list.
type ticketListPage struct {
	pageBase
	Filter scorebridge.TicketFilter
	Items  []*scorebridge.Ticket
	// Action is set when the list is one action's tickets.
	Action *scorebridge.Recommendation
	// The filters' choices.
	Types       []scorebridge.TicketType
	States      []option
	Statuses    []scorebridge.TicketStatus
	Categories  []scorebridge.Category
	Connections []option
	Sorts       []option
	// NextURL, PrevURL and FirstURL page through the list; empty when
	// not applicable.
	NextURL, PrevURL, FirstURL string
	// Filtered is true when any filter is on, for the empty message.
	Filtered bool
}

// option is one choice of a select.
type option struct {
	Value, Label string
}

var ticketSortOptions = []option{
	{scorebridge.TicketSortCreated, "Newest shared"},
	{scorebridge.TicketSortUpdated, "Last changed"},
	{scorebridge.TicketSortName, "Name"},
}

// ticketTypes are the types a ticket may be, in the filter's order.
var ticketTypes = []scorebridge.TicketType{scorebridge.TicketIncident, scorebridge.TicketChange, scorebridge.TicketProblem}

func (s *Server) handleTicketList(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	slot := s.views.slot(r, "tickets")
	if view := slot.kept(); view != nil {
		s.renderKept(w, r, view)
		return
	}
	filter, err := parseTicketFilter(r.URL.Query(), false)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if filter.Sort == "" {
		filter.Sort = scorebridge.TicketSortCreated
	}
	filter.Limit = ticketPageLimit
	// dir=prev asks for the page before the one the cursor led to.
	filter.Backward = r.URL.Query().Get("dir") == "prev" && filter.Cursor != ""
	ctx := r.Context()
	page := &ticketListPage{
		pageBase: pageBase{Title: "Tickets", Nav: "tickets", Notice: ticketNotices[r.URL.Query().Get("done")]},
		Filter:   filter, Types: ticketTypes, Statuses: scorebridge.TicketStatuses, Categories: scorebridge.Categories, Sorts: ticketSortOptions,
	}
	page.Filtered = len(ticketFilterQuery(scorebridge.TicketFilter{Type: filter.Type, State: filter.State, Status: filter.Status, Category: filter.Category,
		ConnectionID: filter.ConnectionID, Assignee: filter.Assignee, Overdue: filter.Overdue, Query: filter.Query, Sort: scorebridge.TicketSortCreated})) > 0
	if filter.RecommendationID != "" {
		if page.Action, err = s.recommendations.FindRecommendationByID(ctx, filter.RecommendationID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	items, next, err := tickets.FindTicketPage(ctx, filter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page.Items = items
	page.Connections, page.States = s.ticketFilterChoices(r, filter)
	q := ticketFilterQuery(filter)
	page.NextURL, page.PrevURL = pagerURLs("/tickets", q, filter.Cursor, next, filter.Backward)
	if filter.Cursor != "" {
		page.FirstURL = ticketListURL(filter)
	}
	s.renderKeeping(w, r, http.StatusOK, "tickets", page, slot)
}

// ticketFilterChoices lists the connections and, once a type is chosen,
// its states named as the default (or chosen) connection names them. A
// failure to read them leaves the choices out; the list still works.
func (s *Server) ticketFilterChoices(r *http.Request, f scorebridge.TicketFilter) (conns, states []option) {
	ctx := r.Context()
	connID := f.ConnectionID
	if s.connections != nil {
		all, err := s.connections.FindConnections(ctx)
		if err != nil {
			s.logger.Warn("connections not listed for the ticket filter", "error", err)
		}
		for _, c := range all {
			conns = append(conns, option{c.ID, instanceHost(c.InstanceURL)})
			if connID == "" && c.IsDefault {
				connID = c.ID
			}
		}
	}
	if f.Type == "" {
		return conns, nil
	}
	var names *scorebridge.StateNames
	if s.stateNames != nil && connID != "" {
		n, err := s.stateNames.StateNames(ctx, connID)
		if err != nil {
			s.logger.Warn("state names not read for the ticket filter", "connection", connID, "error", err)
		}
		names = n
	}
	table := scorebridge.StateTable(f.Type)
	for _, e := range names.Entries() {
		if e.Table == table {
			states = append(states, option{e.Value, e.Name})
		}
	}
	// A state chosen by a link (a card's count) that no list names still
	// shows as chosen.
	if f.State != "" && !hasOption(states, f.State) {
		states = append(states, option{f.State, names.Name(f.Type, f.State)})
	}
	return conns, states
}

func hasOption(opts []option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}

func (s *Server) handleAPITicketList(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	filter, err := parseTicketFilter(r.URL.Query(), true)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ts, next, err := tickets.FindTicketPage(r.Context(), filter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	resp := listResponse[ticketItem]{Items: make([]ticketItem, 0, len(ts)), Next: next}
	for _, t := range ts {
		resp.Items = append(resp.Items, newTicketItem(t))
	}
	writeJSON(w, http.StatusOK, resp)
}
