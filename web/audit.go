package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scorebridge/scorebridge"
)

// auditFilterForm is the audit filter as typed in the page or the query.
type auditFilterForm struct {
	Actor, Action, Outcome, Since, Until string
}

// parseAuditFilter reads the filter from a query: actor, action, outcome,
// since and until (a date YYYY-MM-DD or an RFC 3339 time), limit, cursor.
func parseAuditFilter(q url.Values) (scorebridge.AuditFilter, auditFilterForm, error) {
	form := auditFilterForm{Actor: q.Get("actor"), Action: q.Get("action"), Outcome: q.Get("outcome"), Since: q.Get("since"), Until: q.Get("until")}
	f := scorebridge.AuditFilter{Actor: form.Actor, Action: form.Action, Outcome: form.Outcome, Cursor: q.Get("cursor")}
	var err error
	if f.Since, err = parseAuditTime("since", form.Since, false); err != nil {
		return f, form, err
	}
	if f.Until, err = parseAuditTime("until", form.Until, true); err != nil {
		return f, form, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, form, scorebridge.FieldErrorf("limit", "limit must be a whole number from 1 to %d.", scorebridge.MaxAuditPage)
		}
		f.Limit = n
	}
	return f, form, f.Validate()
}

// parseAuditTime reads a date or a time; a date given as "until" means the
// end of that day, so since=until=a day selects the whole day.
func parseAuditTime(field, v string, endOfDay bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, scorebridge.FieldErrorf(field, "%s must be a date (2026-11-25) or a time (2026-11-25T09:30:00Z).", field)
	}
	return t, nil
}

// auditPage is the data of the audit log page.
type auditPage struct {
	pageBase
	Filter   auditFilterForm
	Events   []auditRow
	Next     string
	Error    string
	Actions  []string
	Outcomes []string
}

// auditRow is one event as the page shows it: the action in words, a
// link to what it concerns, who it is credited to, and its detail both as
// a one-line summary and in full (indented JSON) for the detail view.
type auditRow struct {
	*scorebridge.AuditEvent
	DetailText string
	Summary    string
	ActionName string
	TargetURL  string
	// OnBehalfOf is the person whose request background work carried out
	// (the person who shared a ticket that the system then sent).
	OnBehalfOf string
}

// auditActions are the actions the filter offers.
var auditActions = []string{scorebridge.AuditSignIn, scorebridge.AuditSignOut, scorebridge.AuditPasswordChange, scorebridge.AuditAccountCreate,
	scorebridge.AuditTokenCreate, scorebridge.AuditTokenRevoke, scorebridge.AuditTokenUse, scorebridge.AuditRequest, scorebridge.AuditConnection,
	scorebridge.AuditTicketSend, scorebridge.AuditStateChange, scorebridge.AuditImport, scorebridge.AuditSecretsRotate,
	scorebridge.AuditSettings, scorebridge.AuditDrift, scorebridge.AuditTicketResolve}

func (s *Server) auditOr404(w http.ResponseWriter, r *http.Request) scorebridge.AuditService {
	if s.audit == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "This center keeps no audit log."))
	}
	return s.audit
}

func (s *Server) handleAuditPage(w http.ResponseWriter, r *http.Request) {
	audit := s.auditOr404(w, r)
	if audit == nil {
		return
	}
	f, form, err := parseAuditFilter(r.URL.Query())
	page := &auditPage{pageBase: pageBase{Title: "Audit log", Nav: "audit"}, Filter: form, Actions: auditActions,
		Outcomes: []string{scorebridge.OutcomeSuccess, scorebridge.OutcomeFailure, outcomeThrottled}}
	if err != nil {
		page.Error = scorebridge.ErrorMessage(err)
		s.render(w, r, http.StatusBadRequest, "audit", page)
		return
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	events, next, err := audit.FindAuditEvents(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page.Next = next
	requesters := map[string]string{}
	for _, e := range events {
		row := auditRow{AuditEvent: e, ActionName: auditActionName(e.Action), TargetURL: auditTargetURL(e)}
		if len(e.Detail) > 0 {
			b, _ := json.MarshalIndent(e.Detail, "", "  ")
			row.DetailText = string(b)
			row.Summary = auditSummary(e.Detail)
		}
		if e.Action == scorebridge.AuditTicketSend && e.Target != "" && s.tickets != nil {
			who, ok := requesters[e.Target]
			if !ok {
				if t, err := s.tickets.FindTicketByID(r.Context(), e.Target); err == nil {
					who = t.RequestedBy
				}
				requesters[e.Target] = who
			}
			if who != "" && who != e.Actor {
				row.OnBehalfOf = who
			}
		}
		page.Events = append(page.Events, row)
	}
	s.render(w, r, http.StatusOK, "audit", page)
}

// NextURL is the next page: the same filter and the cursor.
func (p *auditPage) NextURL() string { return "/audit?" + p.query(p.Next) }

// ExportURL exports every event the filter selects as JSON lines.
func (p *auditPage) ExportURL() string { return "/api/v1/audit?format=jsonl&" + p.query("") }

func (p *auditPage) query(cursor string) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": p.Filter.Actor, "action": p.Filter.Action, "outcome": p.Filter.Outcome,
		"since": p.Filter.Since, "until": p.Filter.Until, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// auditListBody is the JSON shape of GET /api/v1/audit.
type auditListBody struct {
	Items []*scorebridge.AuditEvent `json:"items"`
	Next  string                    `json:"next"`
}

// handleAPIAudit answers the audit log as JSON, or with format=jsonl as
// JSON lines (one event per line, every page, newest first) for export.
func (s *Server) handleAPIAudit(w http.ResponseWriter, r *http.Request) {
	audit := s.auditOr404(w, r)
	if audit == nil {
		return
	}
	f, _, err := parseAuditFilter(r.URL.Query())
	if err != nil {
		s.error(w, r, err)
		return
	}
	switch r.URL.Query().Get("format") {
	case "", "json":
		items, next, err := audit.FindAuditEvents(r.Context(), f)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if items == nil {
			items = []*scorebridge.AuditEvent{}
		}
		writeJSON(w, http.StatusOK, auditListBody{Items: items, Next: next})
	case "jsonl":
		s.exportAudit(w, r, audit, f)
	default:
		s.error(w, r, scorebridge.FieldErrorf("format", "format must be json or jsonl."))
	}
}

func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, audit scorebridge.AuditService, f scorebridge.AuditFilter) {
	f.Limit = scorebridge.MaxAuditPage
	// The first page is read before anything is written, so an error still
	// gets a proper status.
	items, next, err := audit.FindAuditEvents(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="scorebridge-audit.jsonl"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for {
		for _, e := range items {
			if err := enc.Encode(e); err != nil {
				return
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
		if items, next, err = audit.FindAuditEvents(r.Context(), f); err != nil {
			// Headers are gone: end the stream short; the log says why.
			s.logger.ErrorContext(r.Context(), "audit export failed", "error", err.Error())
			break
		}
	}
	bw.Flush()
}
