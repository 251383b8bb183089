package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/scorebridge/scorebridge"
)

// driftRoutes are the Drift page, its API, and the two ways to act on a
// drift: reopen the ticket, or a new ticket linked to it.
func (s *Server) driftRoutes() []route {
	if s.drift == nil {
		return nil
	}
	const (
		reader   = scorebridge.RoleReader
		operator = scorebridge.RoleOperator
	)
	return []route{
		{"GET /drift", reader, s.handleDriftList},
		{"POST /drift/{actionId}/reopen", operator, s.handleDriftReopen},
		{"POST /drift/{actionId}/new-ticket", operator, s.handleDriftNewTicket},
		{"GET /api/v1/drift", reader, s.handleAPIDriftList},
		{"POST /api/v1/drift/{actionId}/reopen", operator, s.handleAPIDriftReopen},
		{"POST /api/v1/drift/{actionId}/new-ticket", operator, s.handleAPIDriftNewTicket},
	}
}

type driftListPage struct {
	pageBase
	Items   []*scorebridge.DriftItem
	NextURL string
}

// parseDriftFilter reads limit and cursor.
func parseDriftFilter(r *http.Request) (scorebridge.DriftFilter, error) {
	q := r.URL.Query()
	f := scorebridge.DriftFilter{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, scorebridge.FieldErrorf("limit", "limit must be a whole number from 1")
		}
		f.Limit = n
	}
	return f, nil
}

// findDrift reads the page of the drift list the request asks for.
func (s *Server) findDrift(r *http.Request) ([]*scorebridge.DriftItem, string, error) {
	f, err := parseDriftFilter(r)
	if err != nil {
		return nil, "", err
	}
	return s.drift.FindDrift(r.Context(), f)
}

func (s *Server) handleDriftList(w http.ResponseWriter, r *http.Request) {
	items, next, err := s.findDrift(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := &driftListPage{pageBase: pageBase{Title: "Drift", Nav: "drift", Notice: noticeFor(r)}, Items: items}
	if next != "" {
		page.NextURL = "/drift?" + url.Values{"cursor": {next}}.Encode()
	}
	s.render(w, r, http.StatusOK, "drift", page)
}

// back is where a drift form returns: the action's page when it was sent
// from there, else the Drift list.
func driftBack(r *http.Request, actionID, done string) string {
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path == "/actions/"+actionID {
		return "/actions/" + url.PathEscape(actionID) + "?done=" + done
	}
	return "/drift?done=" + done
}

func (s *Server) handleDriftReopen(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("actionId")
	if _, err := s.drift.ReopenDrift(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, driftBack(r, id, "reopen"), http.StatusSeeOther)
}

func (s *Server) handleDriftNewTicket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("actionId")
	if _, err := s.drift.NewLinkedTicket(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, driftBack(r, id, "linked"), http.StatusSeeOther)
}

func (s *Server) handleAPIDriftList(w http.ResponseWriter, r *http.Request) {
	items, next, err := s.findDrift(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.DriftItem]{Items: items, Next: next})
}

// handleAPIDriftReopen answers 202 with the drift as it now stands: the
// reopen is queued.
func (s *Server) handleAPIDriftReopen(w http.ResponseWriter, r *http.Request) {
	d, err := s.drift.ReopenDrift(r.Context(), r.PathValue("actionId"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}

// handleAPIDriftNewTicket answers 202 with the new linked ticket, queued.
func (s *Server) handleAPIDriftNewTicket(w http.ResponseWriter, r *http.Request) {
	t, err := s.drift.NewLinkedTicket(r.Context(), r.PathValue("actionId"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tickets/"+url.PathEscape(t.ID))
	writeJSON(w, http.StatusAccepted, newTicketItem(t))
}

// actionDrift returns the action's drift for its page, nil when none (or
// drift is not served). A failure to read it is logged.
func (s *Server) actionDrift(r *http.Request, id string) *scorebridge.DriftItem {
	if s.drift == nil {
		return nil
	}
	items, _, err := s.drift.FindDrift(r.Context(), scorebridge.DriftFilter{ActionID: id, Limit: 1})
	if err != nil {
		s.logger.Error("drift of an action not read", "action", id, "error", err)
		return nil
	}
	if len(items) == 0 {
		return nil
	}
	return items[0]
}
