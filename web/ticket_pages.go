package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// ticketNotices are the confirmations the ticket pages show after a
// redirect (?done=); fixed texts only.
var ticketNotices = map[string]string{
	"queued":  "Ticket queued: it is sent to ServiceNow in the background.",
	"several": "Tickets queued: they are sent to ServiceNow in the background.",
	"retried": "Ticket queued again.",
}

// ticketForm is the share form as typed.
type ticketForm struct {
	IDs         []string
	Mode        string // "each" (one ticket per action) or "grouped"
	Type        string
	Name        string
	Description string
	Priority    string
	DueDate     string
}

// ticketFormPage is the data of the share form.
type ticketFormPage struct {
	pageBase
	Actions    []*scorebridge.Recommendation
	Form       ticketForm
	Errors     map[string]string
	Priorities []priorityOption
	Types      []scorebridge.TicketType
	// MinDueDate is today, for the date picker.
	MinDueDate string
	// NoConnection: no ServiceNow instance is connected, so sharing is
	// refused; the form says so and links to the setup page.
	NoConnection bool
	// Connection is the default connection, to warn when tickets will wait
	// for an admin to authorize it.
	Connection *connectionView
}

type priorityOption struct {
	Value int
	Label string
}

// ticketPriorities are ServiceNow's priority labels; 5 exists for incidents
// and problems, not change requests.
var ticketPriorities = []priorityOption{{1, "1 - Critical"}, {2, "2 - High"}, {3, "3 - Moderate"}, {4, "4 - Low"}, {5, "5 - Planning (not for change requests)"}}

// ticketPage is the data of a ticket's page.
type ticketPage struct {
	pageBase
	Ticket *scorebridge.Ticket
	Audit  []*scorebridge.TicketAuditEntry
	// Tracking is what the center tracks of the sent ticket's record,
	// nil before it is sent or without tracking.
	Tracking *scorebridge.TicketTracking
	// History is the record's tracked changes, newest first.
	History []scorebridge.TicketHistoryEntry
}

func (s *Server) handleTicketNew(w http.ResponseWriter, r *http.Request) {
	if s.ticketsOr404(w, r) == nil {
		return
	}
	ids := r.URL.Query()["id"]
	form := ticketForm{IDs: ids, Mode: "each", Type: string(scorebridge.TicketIncident), Priority: "3"}
	if t := scorebridge.TicketType(r.URL.Query().Get("type")); t.Valid() {
		form.Type = string(t)
	}
	actions, err := s.shareActions(r, ids)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if len(actions) == 1 {
		form.Name = truncate(actions[0].Title, scorebridge.MaxTicketNameLength)
		form.Description = truncate(actions[0].Description, scorebridge.MaxTicketDescriptionLength)
	} else {
		form.Name = fmt.Sprintf("%d security improvement actions", len(actions))
	}
	s.renderTicketForm(w, r, http.StatusOK, actions, form, nil)
}

// shareActions loads the actions a share form is about.
func (s *Server) shareActions(r *http.Request, ids []string) ([]*scorebridge.Recommendation, error) {
	if len(ids) == 0 {
		return nil, scorebridge.FieldErrorf("id", "Choose at least one improvement action to share.")
	}
	if len(ids) > scorebridge.MaxTicketsPerBatch {
		return nil, scorebridge.FieldErrorf("id", "Share at most %d actions at once.", scorebridge.MaxTicketsPerBatch)
	}
	var out []*scorebridge.Recommendation
	for _, id := range ids {
		rec, err := s.recommendations.FindRecommendationByID(r.Context(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (s *Server) renderTicketForm(w http.ResponseWriter, r *http.Request, status int, actions []*scorebridge.Recommendation, form ticketForm, errs map[string]string) {
	title := "Share to ServiceNow"
	conn := s.homeConnection(r.Context())
	s.render(w, r, status, "ticket_form", &ticketFormPage{
		pageBase:     pageBase{Title: title, Nav: "actions"},
		Actions:      actions,
		Form:         form,
		Errors:       errs,
		Priorities:   ticketPriorities,
		Types:        shareTypes(),
		MinDueDate:   s.today(),
		NoConnection: s.connections != nil && conn == nil,
		Connection:   conn,
	})
}

// sharedTickets is the answer to a share sent by the page's script
// (Accept: application/json): the tickets queued, which it then follows
// through the ticket API.
type sharedTickets struct {
	Tickets []ticketItem `json:"tickets"`
}

// wantsJSON reports whether the page's script sent the form and reads the
// answer itself.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (s *Server) handleTicketCreate(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	f := r.PostForm
	form := ticketForm{
		IDs: f["id"], Mode: f.Get("mode"), Type: f.Get("type"), Name: f.Get("name"),
		Description: f.Get("description"), Priority: f.Get("priority"), DueDate: f.Get("dueDate"),
	}
	actions, err := s.shareActions(r, form.IDs)
	if err != nil {
		s.error(w, r, err)
		return
	}
	errs := form.check(actions, time.Now())
	if len(errs) == 0 {
		created, err := tickets.CreateTickets(r.Context(), form.requests(actions))
		if err == nil {
			switch {
			case wantsJSON(r):
				out := sharedTickets{Tickets: make([]ticketItem, 0, len(created))}
				for _, t := range created {
					out.Tickets = append(out.Tickets, newTicketItem(t))
				}
				writeJSON(w, http.StatusAccepted, out)
			case len(created) == 1:
				http.Redirect(w, r, "/tickets/"+url.PathEscape(created[0].ID)+"?done=queued", http.StatusSeeOther)
			default:
				http.Redirect(w, r, "/tickets?done=several", http.StatusSeeOther)
			}
			return
		}
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			s.error(w, r, err)
			return
		}
		// What the form could not know: the connection, or a limit checked
		// only by the service.
		field := scorebridge.ErrorField(err)
		switch field {
		case "connectionId":
			field = "connection"
		case "type", "name", "description", "priority", "dueDate":
		default:
			field = "form"
		}
		errs = map[string]string{field: scorebridge.ErrorMessage(err)}
	}
	s.renderTicketForm(w, r, http.StatusBadRequest, actions, form, errs)
}

// requests turns a checked form into ticket requests: one per action
// ("each", named after each action) or one grouped ticket.
func (f ticketForm) requests(actions []*scorebridge.Recommendation) []*scorebridge.TicketRequest {
	p, _ := strconv.Atoi(strings.TrimSpace(f.Priority))
	base := scorebridge.TicketRequest{
		Type: scorebridge.TicketType(f.Type), Priority: p, DueDate: strings.TrimSpace(f.DueDate),
		Name: f.Name, Description: f.Description,
	}
	if len(actions) == 1 || f.Mode == "grouped" {
		req := base
		for _, a := range actions {
			req.RecommendationIDs = append(req.RecommendationIDs, a.ID)
		}
		return []*scorebridge.TicketRequest{&req}
	}
	// One ticket each: each named and described after its own action.
	var out []*scorebridge.TicketRequest
	for _, a := range actions {
		req := base
		req.RecommendationIDs = []string{a.ID}
		req.Name = truncate(a.Title, scorebridge.MaxTicketNameLength)
		req.Description = truncate(a.Description, scorebridge.MaxTicketDescriptionLength)
		if strings.TrimSpace(f.Description) != "" {
			req.Description = truncate(f.Description+"\n\n"+a.Description, scorebridge.MaxTicketDescriptionLength)
		}
		out = append(out, &req)
	}
	return out
}

func (s *Server) handleTicketView(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	t, err := tickets.FindTicketByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	base := pageBase{Title: "Ticket: " + t.Name, Nav: "tickets", Notice: ticketNotices[r.URL.Query().Get("done")]}
	if base.Notice != "" {
		// "Queued" only while it is: a reload after the send says so.
		switch t.Status {
		case scorebridge.TicketSent:
			base.Notice = "Ticket sent to ServiceNow as " + t.Number + "."
		case scorebridge.TicketFailed:
			base.Notice = "The ticket could not be sent to ServiceNow: see why below."
		default:
			base.NoticeTicket = t.ID
		}
	}
	page := &ticketPage{pageBase: base, Ticket: t}
	if s.tracking != nil && t.Status == scorebridge.TicketSent {
		if page.Tracking, err = s.tracking.TicketTracking(r.Context(), t.ID); err != nil {
			s.logger.Error("tracked fields of a ticket not read", "ticket", t.ID, "error", err)
			page.Tracking = nil
		} else {
			for i := len(page.Tracking.History) - 1; i >= 0; i-- {
				page.History = append(page.History, page.Tracking.History[i])
			}
		}
	}
	s.render(w, r, http.StatusOK, "ticket", page)
}

// snPriorityName names a record's priority value ("3" is 3 - Moderate).
func snPriorityName(v string) string {
	if p, err := strconv.Atoi(v); err == nil {
		return priorityName(p)
	}
	return v
}

func (s *Server) handleTicketAudit(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	t, err := tickets.FindTicketByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	audit, err := tickets.FindTicketAudit(r.Context(), t.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "ticket_audit", &ticketPage{
		pageBase: pageBase{Title: "Audit: " + t.Name, Nav: "tickets"},
		Ticket:   t,
		Audit:    audit,
	})
}

func (s *Server) handleTicketRetry(w http.ResponseWriter, r *http.Request) {
	tickets := s.ticketsOr404(w, r)
	if tickets == nil {
		return
	}
	t, err := tickets.RetryTicket(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(t.ID)+"?done=retried", http.StatusSeeOther)
}

// today is the current UTC date, the earliest due date.
func (s *Server) today() string { return time.Now().UTC().Format(scorebridge.DueDateLayout) }

// truncate cuts s to at most n characters, so a prefilled field never
// starts out over its limit.
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// actionTickets returns the tickets of an action for its page, newest
// first; none when sharing is not set up. A failure to read them is logged
// and the page shows the action without them.
func (s *Server) actionTickets(r *http.Request, id string) []*scorebridge.Ticket {
	if s.tickets == nil {
		return nil
	}
	ts, err := s.tickets.FindTickets(r.Context(), scorebridge.TicketFilter{RecommendationID: id, Limit: 20})
	if err != nil {
		s.logger.Error("tickets of an action not read", "action", id, "error", err)
		return nil
	}
	return ts
}
