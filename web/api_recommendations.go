package web

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"

	"github.com/scorebridge/scorebridge"
)

// recommendationItem is a recommendation as the API shows it: every stored
// field plus the labels and derived scores a client would otherwise have to
// compute.
type recommendationItem struct {
	*scorebridge.Recommendation
	SourceLabel string  `json:"sourceLabel"`
	StateLabel  string  `json:"stateLabel"`
	EarnedScore float64 `json:"earnedScore"`
	ScoreImpact float64 `json:"scoreImpact"`
}

func newRecommendationItem(r *scorebridge.Recommendation) recommendationItem {
	c := *r
	if c.Threats == nil {
		c.Threats = []string{} // an empty list, never null, keeps clients simple
	}
	return recommendationItem{
		Recommendation: &c,
		SourceLabel:    c.Source.Label(),
		StateLabel:     c.State.Label(),
		EarnedScore:    math.Round(c.EarnedScore()*100) / 100,
		ScoreImpact:    math.Round(c.ScoreImpact()*100) / 100,
	}
}

// listResponse is the shape of every list: a page of items and the cursor of
// the next page, "" at the end.
type listResponse[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

func (s *Server) handleAPIRecommendationList(w http.ResponseWriter, r *http.Request) {
	slot := s.views.slot(r, "api-recommendations")
	if view := slot.kept(); view != nil {
		writeJSONBody(w, http.StatusOK, view.body)
		return
	}
	filter, err := parseFilter(r.URL.Query(), true)
	if err != nil {
		s.error(w, r, err)
		return
	}
	recs, next, err := s.recommendations.FindRecommendations(r.Context(), filter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	resp := listResponse[recommendationItem]{Items: make([]recommendationItem, 0, len(recs)), Next: next}
	for _, rec := range recs {
		resp.Items = append(resp.Items, newRecommendationItem(rec))
	}
	writeJSONKeeping(w, http.StatusOK, resp, slot)
}

func (s *Server) handleAPIRecommendationGet(w http.ResponseWriter, r *http.Request) {
	rec, err := s.recommendations.FindRecommendationByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newRecommendationItem(rec))
}

// handleAPIRecommendationCreate creates a user recommendation. The source is
// always "user": imported actions come from importers, not from this API.
func (s *Server) handleAPIRecommendationCreate(w http.ResponseWriter, r *http.Request) {
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	var id string
	upd, err := decodeUpdate(members, func(m jsonMember) (bool, error) {
		switch m.Name {
		case "id":
			v, err := decodeString(m)
			id = v
			return true, err
		case "source":
			v, err := decodeString(m)
			if err == nil && v != string(scorebridge.SourceUser) {
				err = scorebridge.FieldErrorf("source", "only user recommendations can be created through the API; source must be \"user\" or left out")
			}
			return true, err
		}
		return false, nil
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	rec := newUserRecommendation(id)
	upd.Apply(rec)
	if err := rec.Validate(); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.recommendations.CreateRecommendation(r.Context(), rec); err != nil {
		s.error(w, r, err)
		return
	}
	created, err := s.recommendations.FindRecommendationByID(r.Context(), rec.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/recommendations/"+url.PathEscape(created.ID))
	writeJSON(w, http.StatusCreated, newRecommendationItem(created))
}

// newUserRecommendation returns a blank user recommendation with the
// defaults a new one starts from; id is generated when empty.
func newUserRecommendation(id string) *scorebridge.Recommendation {
	if id == "" {
		id = newUserRecommendationID()
	}
	return &scorebridge.Recommendation{
		ID:         id,
		Source:     scorebridge.SourceUser,
		SourceTool: scorebridge.ToolUser,
		State:      scorebridge.StateToAddress,
		Threats:    []string{},
	}
}

// newUserRecommendationID returns a random id that cannot collide with
// catalog or imported ids, which never start with "user-".
func newUserRecommendationID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "user-" + hex.EncodeToString(b)
}

func (s *Server) handleAPIRecommendationPatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	if len(members) == 0 {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "Nothing to update: send at least one field."))
		return
	}
	var note string
	upd, err := decodeUpdate(members, func(m jsonMember) (bool, error) {
		if m.Name != "stateNote" {
			return false, nil
		}
		v, err := decodeString(m)
		if err == nil {
			err = validStateNote("stateNote", v)
		}
		note = v
		return true, err
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	if note != "" && upd.State == nil {
		s.error(w, r, scorebridge.FieldErrorf("stateNote", "stateNote is kept with a state change; send state too"))
		return
	}
	upd.StateNote = note
	if !onlyStateFields(upd) && !hasRole(scorebridge.UserFromContext(r.Context()), scorebridge.RoleAdmin) {
		s.error(w, r, scorebridge.Errorf(scorebridge.EFORBIDDEN, "Changing anything but the state needs the admin role."))
		return
	}
	updated, err := s.updateRecommendation(r, id, upd)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newRecommendationItem(updated))
}

// updateRecommendation checks the record as it would be after upd before
// asking the store to write it, so a bad value is refused with the field
// named and nothing is written.
func (s *Server) updateRecommendation(r *http.Request, id string, upd scorebridge.RecommendationUpdate) (*scorebridge.Recommendation, error) {
	current, err := s.recommendations.FindRecommendationByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	next := *current
	upd.Apply(&next)
	if err := next.Validate(); err != nil {
		return nil, err
	}
	return s.recommendations.UpdateRecommendation(r.Context(), id, upd)
}

func (s *Server) handleAPIRecommendationDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.recommendations.DeleteRecommendation(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAPIRecommendationHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.recommendations.FindRecommendationByID(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	changes, err := s.recommendations.FindStateChanges(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if changes == nil {
		changes = []*scorebridge.StateChange{}
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.StateChange]{Items: changes})
}
