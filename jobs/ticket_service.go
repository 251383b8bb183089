package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// TicketService implements scorebridge.TicketService: it validates ticket
// requests, stores them with their jobs, and answers what became of them.
type TicketService struct {
	store       TicketStore
	recs        scorebridge.RecommendationService
	connections ConnectionFinder // optional
	enqueue     sqlstore.EnqueueFunc
	now         func() time.Time
	sla         SLASource // optional: due dates for requests without one
}

// ConnectionFinder finds a ServiceNow connection by id (the connection
// service does); ENOTFOUND when there is none.
type ConnectionFinder interface {
	FindConnectionByID(ctx context.Context, id string) (*scorebridge.Connection, error)
}

var _ scorebridge.TicketService = (*TicketService)(nil)

// CreateTickets validates every request and reads its actions first, then
// stores all tickets and their jobs in one transaction: nothing is
// half-written. Returns EINVALID naming the bad field (prefixed with the
// request's position in a bulk share) or ENOTFOUND for an unknown action.
func (s *TicketService) CreateTickets(ctx context.Context, reqs []*scorebridge.TicketRequest) ([]*scorebridge.Ticket, error) {
	if len(reqs) == 0 {
		return nil, scorebridge.FieldErrorf("recommendationId", "choose at least one improvement action to share")
	}
	if len(reqs) > scorebridge.MaxTicketsPerBatch {
		return nil, scorebridge.FieldErrorf("recommendationIds", "share at most %d tickets at once (got %d)", scorebridge.MaxTicketsPerBatch, len(reqs))
	}
	// The sign-in name is what a ServiceNow admin can recognise in the
	// ticket ("ana", "token:ci"); account ids are internal.
	requester := "system"
	if u := scorebridge.UserFromContext(ctx); u != nil && u.Name != "" {
		requester = u.Name
	} else if u != nil && u.ID != "" {
		requester = u.ID
	}
	sla, err := s.dueDates(ctx, reqs)
	if err != nil {
		return nil, err
	}
	tickets := make([]*scorebridge.Ticket, len(reqs))
	for i, req := range reqs {
		req.Name = strings.TrimSpace(req.Name)
		if req.DueDate == "" && sla != nil {
			req.DueDate = sla.DueDate(req.Priority, s.now())
		}
		if err := req.Validate(s.now()); err != nil {
			if len(reqs) > 1 {
				if e, ok := err.(*scorebridge.Error); ok {
					e.Message = "ticket " + strconv.Itoa(i+1) + ": " + e.Message
				}
			}
			return nil, err
		}
		if s.connections != nil {
			// A ticket for an instance that is not there would wait in the
			// queue for nothing: refuse it now, while the person is here.
			if _, err := s.connections.FindConnectionByID(ctx, req.ConnectionID); scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
				if req.ConnectionID == "" {
					return nil, scorebridge.FieldErrorf("connectionId", "No ServiceNow instance is connected, so the ticket could not be sent. An admin connects one on the ServiceNow page first.")
				}
				return nil, scorebridge.FieldErrorf("connectionId", "There is no ServiceNow connection %q; choose one of the connections on the Connections page, or leave it out for the default.", req.ConnectionID)
			} else if err != nil {
				return nil, err
			}
		}
		t := &scorebridge.Ticket{
			ID:                newTicketID(),
			RecommendationIDs: append([]string(nil), req.RecommendationIDs...),
			Type:              req.Type,
			ConnectionID:      req.ConnectionID,
			Name:              req.Name,
			Description:       req.Description,
			Priority:          req.Priority,
			DueDate:           req.DueDate,
			RequestedBy:       requester,
		}
		for _, id := range req.RecommendationIDs {
			r, err := s.recs.FindRecommendationByID(ctx, id)
			if err != nil {
				return nil, err
			}
			t.Actions = append(t.Actions, scorebridge.TicketAction{
				ID: r.ID, Title: r.Title, Source: r.Source, Category: r.Category,
				Remediation: PlainText(r.Remediation),
			})
		}
		tickets[i] = t
	}
	if err := s.store.InsertTickets(ctx, tickets, s.enqueue); err != nil {
		return nil, err
	}
	return tickets, nil
}

// dueDates returns the SLA when a request has no due date of its own
// (nil when none needs it or there is no SLA).
func (s *TicketService) dueDates(ctx context.Context, reqs []*scorebridge.TicketRequest) (*scorebridge.SLA, error) {
	if s.sla == nil {
		return nil, nil
	}
	for _, r := range reqs {
		if r.DueDate == "" {
			return s.sla.SLA(ctx)
		}
	}
	return nil, nil
}

// FindTicketByID returns ENOTFOUND if there is no such ticket.
func (s *TicketService) FindTicketByID(ctx context.Context, id string) (*scorebridge.Ticket, error) {
	return s.store.FindTicketByID(ctx, id)
}

// FindTickets returns tickets matching filter, newest first.
func (s *TicketService) FindTickets(ctx context.Context, filter scorebridge.TicketFilter) ([]*scorebridge.Ticket, error) {
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	return s.store.FindTickets(ctx, filter)
}

// FindTicketPage returns one page of the tickets matching filter and the
// next page's cursor.
func (s *TicketService) FindTicketPage(ctx context.Context, filter scorebridge.TicketFilter) ([]*scorebridge.Ticket, string, error) {
	if err := filter.Validate(); err != nil {
		return nil, "", err
	}
	return s.store.FindTicketPage(ctx, filter)
}

// RetryTicket queues a failed ticket again. Returns ENOTFOUND, or ECONFLICT
// when it has not failed.
func (s *TicketService) RetryTicket(ctx context.Context, id string) (*scorebridge.Ticket, error) {
	if err := s.store.RequeueTicket(ctx, id, s.enqueue); err != nil {
		return nil, err
	}
	return s.store.FindTicketByID(ctx, id)
}

// FindTicketAudit returns the ticket's exchanges with the instance.
func (s *TicketService) FindTicketAudit(ctx context.Context, id string) ([]*scorebridge.TicketAuditEntry, error) {
	return s.store.FindTicketAudit(ctx, id)
}

// newTicketID returns 32 random hex digits: unguessable, and safe in an
// encoded query (no ^, = or ,).
func newTicketID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// PlainText turns remediation HTML into the plain text a ServiceNow
// description holds: tags dropped (block ends become line breaks), entities
// decoded, blank runs collapsed.
func PlainText(h string) string {
	var b strings.Builder
	inTag := false
	var tag strings.Builder
	for _, c := range h {
		switch {
		case c == '<':
			inTag = true
			tag.Reset()
		case c == '>' && inTag:
			inTag = false
			name := ""
			if f := strings.Fields(tag.String()); len(f) > 0 {
				name = strings.ToLower(strings.TrimLeft(f[0], "/"))
			}
			switch name {
			case "br", "p", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4":
				b.WriteByte('\n')
			}
			if name == "li" && !strings.HasPrefix(tag.String(), "/") {
				b.WriteString("- ")
			}
		case inTag:
			tag.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	lines := strings.Split(html.UnescapeString(b.String()), "\n")
	var out []string
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" || l == "-" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
