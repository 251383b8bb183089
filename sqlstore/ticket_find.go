package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// ticketCursor is the position after a page's last ticket: its sort key
// and id (keyset paging, so a ticket shared between two pages never makes
// one appear twice or go missing, and page 2,000 costs what page 1 does).
type ticketCursor struct {
	Sort    string    `json:"s"`
	ID      string    `json:"i"`
	Created time.Time `json:"c,omitzero"`
	Updated time.Time `json:"u,omitzero"`
	Name    string    `json:"n,omitempty"`
}

func (c ticketCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeTicketCursor(s, sort string) (*ticketCursor, error) {
	bad := scorebridge.FieldErrorf("cursor", "cursor is not one this server handed out; start again without it")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c ticketCursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, bad
	}
	if c.Sort != sort {
		return nil, scorebridge.FieldErrorf("cursor", "cursor belongs to sort %q, not %q; start again without it", c.Sort, sort)
	}
	return &c, nil
}

// FindTickets returns the tickets matching filter, newest first (no
// cursor: the first page).
func (s *TicketStore) FindTickets(ctx context.Context, filter scorebridge.TicketFilter) ([]*scorebridge.Ticket, error) {
	filter.Cursor, filter.Sort = "", ""
	if filter.Limit <= 0 {
		filter.Limit = defaultTicketLimit
	}
	ts, _, err := s.findTicketPage(ctx, filter, maxTicketLimit)
	return ts, err
}

// FindTicketPage returns one page of the tickets matching filter (default
// scorebridge.DefaultTicketPage, at most scorebridge.MaxTicketPage) and
// the cursor of the next page, "" at the end.
func (s *TicketStore) FindTicketPage(ctx context.Context, filter scorebridge.TicketFilter) ([]*scorebridge.Ticket, string, error) {
	if filter.Limit <= 0 {
		filter.Limit = scorebridge.DefaultTicketPage
	}
	return s.findTicketPage(ctx, filter, scorebridge.MaxTicketPage)
}

func (s *TicketStore) findTicketPage(ctx context.Context, filter scorebridge.TicketFilter, maxLimit int) ([]*scorebridge.Ticket, string, error) {
	if err := filter.Validate(); err != nil {
		return nil, "", err
	}
	filter = filter.Normalized()
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	var where []string
	var args []any
	add := func(clause string, a ...any) { where, args = append(where, clause), append(args, a...) }
	if filter.RecommendationID != "" {
		add(`t.id IN (SELECT ticket_id FROM ticket_recommendations WHERE recommendation_id = ?)`, filter.RecommendationID)
	}
	if filter.Type != "" {
		add(`t.type = ?`, string(filter.Type))
	}
	if filter.State != "" {
		add(`t.state = ?`, filter.State)
	}
	if filter.Status != "" {
		add(`t.status = ?`, string(filter.Status))
	}
	if filter.Category != "" {
		add(`t.id IN (SELECT tr.ticket_id FROM ticket_recommendations tr JOIN recommendations r ON r.id = tr.recommendation_id WHERE r.category = ?)`, string(filter.Category))
	}
	if filter.ConnectionID != "" {
		// A ticket shared without naming a connection went to the default.
		def, err := defaultConnectionID(ctx, tx)
		if err != nil {
			return nil, "", err
		}
		if def == filter.ConnectionID {
			add(`t.connection_id IN (?, '')`, filter.ConnectionID)
		} else {
			add(`t.connection_id = ?`, filter.ConnectionID)
		}
	}
	if filter.Assignee != "" {
		add(`t.assigned_to = ?`, filter.Assignee)
	}
	if filter.Overdue {
		// The rule the SLA's Overdue card counts with (overdueWhere), so
		// the list it links to shows the same tickets: sent, still open,
		// due before today less the SLA's grace days.
		sla, err := readSLA(ctx, tx)
		if err != nil {
			return nil, "", err
		}
		add(`(`+overdueWhere+`)`, sla.OverdueBefore(s.db.now()))
	}
	if q := strings.TrimSpace(filter.Query); q != "" {
		p := "%" + escapeLike(strings.ToLower(q)) + "%"
		add(`(LOWER(t.name) LIKE ? ESCAPE '\' OR LOWER(t.number) LIKE ? ESCAPE '\')`, p, p)
	}
	sort := filter.Sort
	if sort == "" {
		sort = scorebridge.TicketSortCreated
	}
	order := "t.created_at DESC, t.id"
	switch sort {
	case scorebridge.TicketSortUpdated:
		order = "t.updated_at DESC, t.id"
	case scorebridge.TicketSortName:
		order = "t.name, t.id"
	}
	back := filter.Backward && filter.Cursor != ""
	if back {
		// Paging back reads the list in reverse from the cursor's ticket
		// (included), down the same indexes, and turns the page round.
		order = map[string]string{scorebridge.TicketSortCreated: "t.created_at, t.id DESC",
			scorebridge.TicketSortUpdated: "t.updated_at, t.id DESC", scorebridge.TicketSortName: "t.name DESC, t.id DESC"}[sort]
	}
	if filter.Cursor != "" {
		c, err := decodeTicketCursor(filter.Cursor, sort)
		if err != nil {
			return nil, "", err
		}
		switch {
		case back && sort == scorebridge.TicketSortCreated:
			at := s.db.timeArg(c.Created)
			add(`(t.created_at > ? OR (t.created_at = ? AND t.id <= ?))`, at, at, c.ID)
		case back && sort == scorebridge.TicketSortUpdated:
			at := s.db.timeArg(c.Updated)
			add(`(t.updated_at > ? OR (t.updated_at = ? AND t.id <= ?))`, at, at, c.ID)
		case back && sort == scorebridge.TicketSortName:
			add(`(t.name, t.id) <= (?, ?)`, c.Name, c.ID)
		case sort == scorebridge.TicketSortCreated:
			at := s.db.timeArg(c.Created)
			add(`(t.created_at < ? OR (t.created_at = ? AND t.id > ?))`, at, at, c.ID)
		case sort == scorebridge.TicketSortUpdated:
			at := s.db.timeArg(c.Updated)
			add(`(t.updated_at < ? OR (t.updated_at = ? AND t.id > ?))`, at, at, c.ID)
		case sort == scorebridge.TicketSortName:
			add(`(t.name, t.id) > (?, ?)`, c.Name, c.ID)
		}
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	limit := min(filter.Limit, maxLimit)
	// One row more than the page tells whether there is a next page.
	ts, err := s.findTicketsTx(ctx, tx, clause, args, order, limit+1)
	if err != nil {
		return nil, "", err
	}
	if back {
		// The ticket before the page is the last of the page before it.
		prev := ""
		if len(ts) > limit {
			p := ts[limit]
			prev = ticketCursor{Sort: sort, ID: p.ID, Created: p.CreatedAt, Updated: p.UpdatedAt, Name: p.Name}.encode()
			ts = ts[:limit]
		}
		slices.Reverse(ts)
		return ts, prev, nil
	}
	if len(ts) <= limit {
		return ts, "", nil
	}
	ts = ts[:limit]
	last := ts[limit-1]
	return ts, ticketCursor{Sort: sort, ID: last.ID, Created: last.CreatedAt, Updated: last.UpdatedAt, Name: last.Name}.encode(), nil
}
