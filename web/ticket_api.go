package web

import (
	"math"
	"net/http"

	"github.com/scorebridge/scorebridge"
)

// ticketRoutes are the ticket pages and API; routes() adds them to the
// route table.
func (s *Server) ticketRoutes() []route {
	const (
		reader   = scorebridge.RoleReader
		operator = scorebridge.RoleOperator
		admin    = scorebridge.RoleAdmin
	)
	return []route{
		{"GET /tickets", reader, s.handleTicketList},
		{"GET /tickets/new", operator, s.handleTicketNew},
		{"POST /tickets", operator, s.idempotent(s.handleTicketCreate)},
		{"GET /tickets/{id}", reader, s.handleTicketView},
		{"POST /tickets/{id}/retry", operator, s.handleTicketRetry},
		{"GET /tickets/{id}/audit", admin, s.handleTicketAudit},

		{"POST /api/v1/tickets", operator, s.idempotent(s.handleAPITicketCreate)},
		{"GET /api/v1/tickets", reader, s.handleAPITicketList},
		{"GET /api/v1/tickets/{id}", reader, s.handleAPITicketGet},
		{"POST /api/v1/tickets/{id}/retry", operator, s.handleAPITicketRetry},
		{"GET /api/v1/tickets/{id}/audit", admin, s.handleAPITicketAudit},
	}
}

// ticketItem is a ticket as the API shows it.
type ticketItem struct {
	*scorebridge.Ticket
	StatusLabel string `json:"statusLabel"`
}

func newTicketItem(t *scorebridge.Ticket) ticketItem {
	c := *t
	if c.RecommendationIDs == nil {
		c.RecommendationIDs = []string{}
	}
	if c.Actions == nil {
		c.Actions = []scorebridge.TicketAction{}
	}
	return ticketItem{Ticket: &c, StatusLabel: c.Status.Label()}
}

// tickets returns the ticket service, or answers 404 when the center runs
// without one (no job runner configured).
func (s *Server) ticketsOr404(w http.ResponseWriter, r *http.Request) scorebridge.TicketService {
	if s.tickets == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Sharing to ServiceNow is not set up on this center."))
		return nil
	}
	return s.tickets
}

// parseTicketRequest reads the JSON body of POST /api/v1/tickets.
// "recommendationId" shares one action; "recommendationIds" makes one
// grouped ticket for several.
func parseTicketRequest(members []jsonMember) (*scorebridge.TicketRequest, error) {
	req := &scorebridge.TicketRequest{}
	var one, many bool
	for _, m := range members {
		var err error
		switch m.Name {
		case "recommendationId":
			var id string
			id, err = decodeString(m)
			req.RecommendationIDs = append(req.RecommendationIDs, id)
			one = true
		case "recommendationIds":
			var ids []string
			ids, err = decodeStrings(m)
			req.RecommendationIDs = append(req.RecommendationIDs, ids...)
			many = true
		case "type":
			var t string
			t, err = decodeString(m)
			req.Type = scorebridge.TicketType(t)
		case "name":
			req.Name, err = decodeString(m)
		case "description":
			req.Description, err = decodeString(m)
		case "priority":
			var f float64
			f, err = decodeNumber(m)
			if err == nil && (f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32) {
				err = scorebridge.FieldErrorf("priority", "priority must be a whole number from 1 to 5")
			}
			req.Priority = int(f)
		case "dueDate":
			if !isNull(m.Value) {
				req.DueDate, err = decodeString(m)
			}
		case "connectionId":
			if !isNull(m.Value) {
				req.ConnectionID, err = decodeString(m)
			}
		default:
			err = scorebridge.FieldErrorf(m.Name, "unknown member %q; a ticket takes recommendationId or recommendationIds, type, name, description, priority, dueDate and connectionId", m.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	if one && many {
		return nil, scorebridge.FieldErrorf("recommendationIds", "send recommendationId for one action or recommendationIds for a grouped ticket, not both")
	}
	return req, nil
}

func (s *Server) handleAPITicketCreate(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	req, err := parseTicketRequest(members)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ts, err := tickets.CreateTickets(r.Context(), []*scorebridge.TicketRequest{req})
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tickets/"+ts[0].ID)
	writeJSON(w, http.StatusAccepted, newTicketItem(ts[0]))
}

func (s *Server) handleAPITicketGet(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	t, err := tickets.FindTicketByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTicketItem(t))
}

func (s *Server) handleAPITicketRetry(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	t, err := tickets.RetryTicket(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, newTicketItem(t))
}

func (s *Server) handleAPITicketAudit(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	entries, err := tickets.FindTicketAudit(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.TicketAuditEntry]{Items: entries})
}
