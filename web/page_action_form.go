package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// actionForm holds a user recommendation's fields as typed, so a refused
// form comes back with every value kept and the error next to its field.
type actionForm struct {
	Title, Description, Remediation, Category     string
	Service, Tier, UserImpact, ImplementationCost string
	Threats                                       string // one per line
	MaxScore, CurrentScore                        string
}

// actionFormPage is the data of the new and edit pages.
type actionFormPage struct {
	pageBase
	// Action is the recommendation being edited; nil on the new page.
	Action     *scorebridge.Recommendation
	Form       actionForm
	Errors     map[string]string
	Categories []scorebridge.Category
}

func formFromRecommendation(r *scorebridge.Recommendation) actionForm {
	return actionForm{
		Title: r.Title, Description: r.Description, Remediation: r.Remediation,
		Category: string(r.Category), Service: r.Service, Tier: r.Tier,
		UserImpact: r.UserImpact, ImplementationCost: r.ImplementationCost,
		Threats: strings.Join(r.Threats, "\n"),
		// Exact values, not the rounded display: saving the form unchanged
		// must not change the scores.
		MaxScore:     strconv.FormatFloat(r.MaxScore, 'f', -1, 64),
		CurrentScore: strconv.FormatFloat(r.CurrentScore, 'f', -1, 64),
	}
}

func formFromRequest(r *http.Request) actionForm {
	f := r.PostForm
	return actionForm{
		Title: f.Get("title"), Description: f.Get("description"), Remediation: f.Get("remediation"),
		Category: f.Get("category"), Service: f.Get("service"), Tier: f.Get("tier"),
		UserImpact: f.Get("userImpact"), ImplementationCost: f.Get("implementationCost"),
		Threats: f.Get("threats"), MaxScore: f.Get("maxScore"), CurrentScore: f.Get("currentScore"),
	}
}

// update turns the typed values into a full update. Errors name the form
// field, using the same names as the API, so one map serves both.
func (f actionForm) update() (scorebridge.RecommendationUpdate, map[string]string) {
	errs := map[string]string{}
	var upd scorebridge.RecommendationUpdate
	title, desc, rem := strings.TrimSpace(f.Title), f.Description, f.Remediation
	service, tier, impact, cost := strings.TrimSpace(f.Service), strings.TrimSpace(f.Tier), strings.TrimSpace(f.UserImpact), strings.TrimSpace(f.ImplementationCost)
	upd.Title, upd.Description, upd.Remediation = &title, &desc, &rem
	upd.Service, upd.Tier, upd.UserImpact, upd.ImplementationCost = &service, &tier, &impact, &cost
	if c, ok := scorebridge.ParseCategory(f.Category); ok {
		upd.Category = &c
	} else {
		errs["category"] = "Choose a category."
	}
	threats := []string{}
	for _, line := range strings.Split(f.Threats, "\n") {
		if t := strings.TrimSpace(line); t != "" {
			threats = append(threats, t)
		}
	}
	upd.Threats = &threats
	upd.MaxScore = parseScore(f.MaxScore, "maxScore", "Max score", errs)
	upd.CurrentScore = parseScore(f.CurrentScore, "currentScore", "Current score", errs)
	return upd, errs
}

func parseScore(v, field, label string, errs map[string]string) *float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		v = "0"
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n != n {
		errs[field] = label + " must be a number, such as 10 or 7.5."
		return nil
	}
	return &n
}

func (s *Server) renderActionForm(w http.ResponseWriter, r *http.Request, status int, rec *scorebridge.Recommendation, form actionForm, errs map[string]string) {
	title := "New improvement action"
	if rec != nil {
		title = "Edit " + rec.Title
	}
	s.render(w, r, status, "action_form", &actionFormPage{
		pageBase:   pageBase{Title: title, Nav: "actions"},
		Action:     rec,
		Form:       form,
		Errors:     errs,
		Categories: scorebridge.Categories,
	})
}

func (s *Server) handleActionNew(w http.ResponseWriter, r *http.Request) {
	s.renderActionForm(w, r, http.StatusOK, nil, actionForm{Category: string(scorebridge.CategoryIdentity), MaxScore: "10", CurrentScore: "0"}, nil)
}

func (s *Server) handleActionCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	form := formFromRequest(r)
	upd, errs := form.update()
	rec := newUserRecommendation("")
	if len(errs) == 0 {
		upd.Apply(rec)
		err := rec.Validate()
		if err == nil {
			err = s.recommendations.CreateRecommendation(r.Context(), rec)
		}
		if !fieldError(err, errs) {
			if err != nil {
				s.error(w, r, err)
				return
			}
			http.Redirect(w, r, "/actions/"+url.PathEscape(rec.ID)+"?done=created", http.StatusSeeOther)
			return
		}
	}
	s.renderActionForm(w, r, http.StatusBadRequest, nil, form, errs)
}

// fieldError records err in errs when it is about one input and reports
// whether it did; other errors are left for the error page.
func fieldError(err error, errs map[string]string) bool {
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
		return false
	}
	field := scorebridge.ErrorField(err)
	if field == "" {
		field = "form"
	}
	errs[field] = scorebridge.ErrorMessage(err)
	return true
}

// findUserRecommendation loads an action a person wants to edit or delete;
// only user recommendations may be, so the others are refused up front.
func (s *Server) findUserRecommendation(r *http.Request) (*scorebridge.Recommendation, error) {
	rec, err := s.recommendations.FindRecommendationByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if rec.Source != scorebridge.SourceUser {
		return nil, scorebridge.Errorf(scorebridge.EFORBIDDEN, "Only user recommendations can be edited or deleted.")
	}
	return rec, nil
}

func (s *Server) handleActionEdit(w http.ResponseWriter, r *http.Request) {
	rec, err := s.findUserRecommendation(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.renderActionForm(w, r, http.StatusOK, rec, formFromRecommendation(rec), nil)
}

func (s *Server) handleActionUpdate(w http.ResponseWriter, r *http.Request) {
	rec, err := s.findUserRecommendation(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := parseForm(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	form := formFromRequest(r)
	upd, errs := form.update()
	if len(errs) == 0 {
		_, err := s.updateRecommendation(r, rec.ID, upd)
		if !fieldError(err, errs) {
			if err != nil {
				s.error(w, r, err)
				return
			}
			http.Redirect(w, r, "/actions/"+url.PathEscape(rec.ID)+"?done=updated", http.StatusSeeOther)
			return
		}
	}
	s.renderActionForm(w, r, http.StatusBadRequest, rec, form, errs)
}

// deletePage asks for confirmation before a delete.
type deletePage struct {
	pageBase
	Action *scorebridge.Recommendation
}

func (s *Server) handleActionDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	rec, err := s.findUserRecommendation(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "action_delete", &deletePage{
		pageBase: pageBase{Title: "Delete " + rec.Title, Nav: "actions"},
		Action:   rec,
	})
}

func (s *Server) handleActionDelete(w http.ResponseWriter, r *http.Request) {
	rec, err := s.findUserRecommendation(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.recommendations.DeleteRecommendation(r.Context(), rec.ID); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/actions?done=deleted", http.StatusSeeOther)
}
