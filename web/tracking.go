package web

import (
	"io"
	"net/http"
	"strings"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/tracking"
)

// maxPushBody caps one push: a task record is a few kilobytes.
const maxPushBody = 1 << 20

// trackingRoutes are sync, push and the ticket summary. The push endpoint
// is public: a ServiceNow business rule calls it, and the HMAC signature
// with the connection's push secret is its authentication.
func (s *Server) trackingRoutes() []route {
	if s.tracking == nil {
		return nil
	}
	const (
		reader = scorebridge.RoleReader
		admin  = scorebridge.RoleAdmin
	)
	return []route{
		{"GET /connections/{id}/tracking", admin, s.handleConnectionTracking},
		{"POST /connections/{id}/sync", admin, s.handleConnectionSync},
		{"POST /api/v1/connections/{id}/sync", admin, s.handleAPIConnectionSync},
		{"GET /api/v1/tickets/summary", reader, s.handleAPITicketSummary},
		{"GET /api/v1/tickets/{id}/tracking", reader, s.handleAPITicketTracking},
		{"POST /api/v1/connections/{id}/push", rolePublic, s.handleAPIPush},
	}
}

func (s *Server) handleAPIConnectionSync(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.tracking.SyncConnection(r.Context(), c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleAPITicketTracking answers what is tracked of a ticket's record,
// with its history of changes.
func (s *Server) handleAPITicketTracking(w http.ResponseWriter, r *http.Request) {
	t, err := s.tracking.TicketTracking(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleAPITicketSummary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.tracking.Summary(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	// The ticket types' cards, and the Drift card when drift is served.
	out := make(map[string]any, len(sum)+1)
	for t, ts := range sum {
		out[string(t)] = ts
	}
	if s.drift != nil {
		n, err := s.drift.CountDrift(r.Context())
		if err != nil {
			s.error(w, r, err)
			return
		}
		out["drift"] = n
	}
	writeJSON(w, http.StatusOK, out)
}

// handleAPIPush receives a business rule's call. Its answer says only
// accepted or refused, so a caller without the secret learns nothing.
func (s *Server) handleAPIPush(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushBody))
	if err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The push body could not be read (at most %d bytes).", maxPushBody))
		return
	}
	if err := s.tracking.ReceivePush(r.Context(), r.PathValue("id"), r.Header.Get(tracking.HeaderTimestamp), r.Header.Get(tracking.HeaderSignature), body); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type connectionTrackingPage struct {
	pageBase
	Connection *connectionView
	Endpoint   string
	Script     string
	Result     *scorebridge.SyncResult
	SyncError  string
}

// handleConnectionTracking shows the business rule to paste and Sync now.
func (s *Server) handleConnectionTracking(w http.ResponseWriter, r *http.Request) {
	s.renderConnectionTracking(w, r, nil, "")
}

func (s *Server) handleConnectionSync(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.tracking.SyncConnection(r.Context(), c.ID)
	msg := ""
	if err != nil {
		msg = scorebridge.ErrorMessage(err)
	}
	s.renderConnectionTracking(w, r, res, msg)
}

func (s *Server) renderConnectionTracking(w http.ResponseWriter, r *http.Request, res *scorebridge.SyncResult, syncErr string) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	secret, err := s.tracking.PushSecret(r.Context(), c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	base := strings.TrimSuffix(s.connections.RedirectURL(), "/connections/callback")
	endpoint := base + "/api/v1/connections/" + c.ID + "/push"
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "connection_tracking", &connectionTrackingPage{
		pageBase:   pageBase{Title: "Ticket tracking", Nav: "connections"},
		Connection: s.viewConnection(c), Endpoint: endpoint,
		Script: tracking.BusinessRuleScript(endpoint, secret), Result: res, SyncError: syncErr,
	})
}
