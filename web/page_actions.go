package web

import (
	"net/http"
	"net/url"

	"github.com/scorebridge/scorebridge"
)

// notices are the confirmations a redirect may ask for with ?done=. Only
// these fixed texts are shown, so the parameter cannot inject content.
var notices = map[string]string{
	"state":   "State changed.",
	"created": "Action created.",
	"updated": "Action saved.",
	"deleted": "Action deleted.",
	"reopen":  "Reopen queued: the ticket is set back to In Progress in ServiceNow in the background.",
	"linked":  "New linked ticket queued: it is sent to ServiceNow in the background.",
}

func noticeFor(r *http.Request) string { return notices[r.URL.Query().Get("done")] }

// actionListPage is the data of the improvement actions list.
type actionListPage struct {
	pageBase
	Filter     scorebridge.RecommendationFilter
	Items      []*scorebridge.Recommendation
	Categories []scorebridge.Category
	Sources    []scorebridge.Source
	States     []scorebridge.State
	Sorts      []sortOption
	// NextURL, PrevURL and FirstURL page through the list; empty when not
	// applicable.
	NextURL, PrevURL, FirstURL string
	// SortURLs are the column headers' links: the same filter sorted by
	// that column, from the first page, so the URL says the whole view.
	SortURLs map[string]string
}

// sortOption is one choice of the sort menu.
type sortOption struct {
	Value, Label string
}

var sortOptions = []sortOption{
	{scorebridge.SortImpact, "Score impact"},
	{scorebridge.SortTitle, "Title"},
	{scorebridge.SortUpdated, "Last updated"},
}

func (s *Server) handleActionList(w http.ResponseWriter, r *http.Request) {
	filter, err := parseFilter(r.URL.Query(), false)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if filter.Sort == "" {
		filter.Sort = scorebridge.SortImpact
	}
	filter.Limit = pageLimit
	// dir=prev asks for the page before the one the cursor led to.
	filter.Backward = r.URL.Query().Get("dir") == "prev" && filter.Cursor != ""
	items, next, err := s.recommendations.FindRecommendations(r.Context(), filter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := &actionListPage{
		pageBase:   pageBase{Title: "Improvement actions", Nav: "actions", Notice: noticeFor(r)},
		Filter:     filter,
		Items:      items,
		Categories: scorebridge.Categories,
		Sources:    scorebridge.Sources,
		States:     scorebridge.States,
		Sorts:      sortOptions,
	}
	q := filterQuery(filter)
	page.SortURLs = map[string]string{}
	for _, o := range sortOptions {
		sq := cloneValues(q)
		sq.Del("sort")
		if o.Value != scorebridge.SortImpact {
			sq.Set("sort", o.Value)
		}
		page.SortURLs[o.Value] = "/actions"
		if len(sq) > 0 {
			page.SortURLs[o.Value] += "?" + sq.Encode()
		}
	}
	page.NextURL, page.PrevURL = pagerURLs("/actions", q, filter.Cursor, next, filter.Backward)
	if filter.Cursor != "" {
		page.FirstURL = "/actions?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "actions", page)
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// actionPage is the data of an action's detail page.
type actionPage struct {
	pageBase
	Action  *scorebridge.Recommendation
	History []*scorebridge.StateChange
	States  []scorebridge.State
	// StateError and Note keep a refused state change on screen.
	StateError string
	Note       string
	// Tickets are the action's ServiceNow tickets, newest first.
	Tickets []*scorebridge.Ticket
	// Drift is the action's drifted ticket, nil when none.
	Drift *scorebridge.DriftItem
}

func (s *Server) handleActionView(w http.ResponseWriter, r *http.Request) {
	s.renderAction(w, r, http.StatusOK, r.PathValue("id"), noticeFor(r), "", "")
}

// renderAction renders the detail page, with a state-change error when the
// form was refused.
func (s *Server) renderAction(w http.ResponseWriter, r *http.Request, status int, id, notice, stateErr, note string) {
	rec, err := s.recommendations.FindRecommendationByID(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	history, err := s.recommendations.FindStateChanges(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, status, "action", &actionPage{
		pageBase:   pageBase{Title: rec.Title, Nav: "actions", Notice: notice},
		Action:     rec,
		History:    history,
		States:     scorebridge.States,
		StateError: stateErr,
		Note:       note,
		Tickets:    s.actionTickets(r, id),
		Drift:      s.actionDrift(r, id),
	})
}

// handleActionStateChange applies the state form, then redirects back to the
// detail page (post/redirect/get) so a reload does not post again.
func (s *Server) handleActionStateChange(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := parseForm(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	state := scorebridge.State(r.PostForm.Get("state"))
	note := r.PostForm.Get("note")
	var err error
	if !state.Valid() {
		err = scorebridge.FieldErrorf("state", "Choose a state.")
	} else if err = validStateNote("note", note); err == nil {
		_, err = s.recommendations.UpdateRecommendation(r.Context(), id, scorebridge.RecommendationUpdate{State: &state, StateNote: note})
	}
	if scorebridge.ErrorCode(err) == scorebridge.EINVALID {
		s.renderAction(w, r, http.StatusBadRequest, id, "", scorebridge.ErrorMessage(err), note)
		return
	} else if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/actions/"+url.PathEscape(id)+"?done=state", http.StatusSeeOther)
}

// maxFormBytes caps a posted form; the largest valid action fits.
const maxFormBytes = 1 << 20

// parseForm reads a posted form within the size cap.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read (it may be too large).")
	}
	return nil
}
