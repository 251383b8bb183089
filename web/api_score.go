package web

import (
	"net/http"
	"strconv"

	"github.com/scorebridge/scorebridge"
)

// Score history bounds: a month by default, at most a year.
const (
	defaultHistoryDays = 30
	maxHistoryDays     = 366
)

func (s *Server) handleAPIScore(w http.ResponseWriter, r *http.Request) {
	score, err := s.scores.CurrentScore(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if score.Categories == nil {
		score.Categories = []scorebridge.CategoryScore{}
	}
	writeJSON(w, http.StatusOK, score)
}

func (s *Server) handleAPIScoreHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name := range q {
		if name != "days" {
			s.error(w, r, scorebridge.FieldErrorf(name, "unknown query parameter %q; known is days", name))
			return
		}
	}
	days := defaultHistoryDays
	if v := q.Get("days"); v != "" || q.Has("days") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistoryDays {
			s.error(w, r, scorebridge.FieldErrorf("days", "days must be a whole number from 1 to %d (got %q)", maxHistoryDays, v))
			return
		}
		days = n
	}
	snaps, err := s.scores.ScoreHistory(r.Context(), days)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if snaps == nil {
		snaps = []*scorebridge.ScoreSnapshot{}
	}
	writeJSON(w, http.StatusOK, listResponse[*scorebridge.ScoreSnapshot]{Items: snaps})
}
