package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// notificationRoutes are the Notifications page and the targets API, for
// admins.
func (s *Server) notificationRoutes() []route {
	if s.notifications == nil {
		return nil
	}
	const admin = scorebridge.RoleAdmin
	return []route{
		{"GET /notifications", admin, s.handleNotificationsPage},
		{"POST /notifications", admin, s.handleNotificationCreate},
		{"POST /notifications/{id}/test", admin, s.handleNotificationTest},
		{"POST /notifications/{id}/enabled", admin, s.handleNotificationEnabled},
		{"POST /notifications/{id}/delete", admin, s.handleNotificationDelete},
		{"GET /notifications/{id}/edit", admin, s.handleNotificationEditPage},
		{"POST /notifications/{id}", admin, s.handleNotificationEdit},

		{"GET /api/v1/notifications/targets", admin, s.handleAPITargetList},
		{"POST /api/v1/notifications/targets", admin, s.handleAPITargetCreate},
		{"GET /api/v1/notifications/targets/{id}", admin, s.handleAPITargetGet},
		{"PUT /api/v1/notifications/targets/{id}", admin, s.handleAPITargetPut},
		{"DELETE /api/v1/notifications/targets/{id}", admin, s.handleAPITargetDelete},
		{"POST /api/v1/notifications/targets/{id}/test", admin, s.handleAPITargetTest},
	}
}

// targetInput is a target as the API and the page's forms send it.
type targetInput struct {
	Name          string                          `json:"name"`
	Channel       scorebridge.NotificationChannel `json:"channel"`
	Enabled       *bool                           `json:"enabled"`
	Digest        scorebridge.DigestPeriod        `json:"digest"`
	Events        []scorebridge.NotificationKind  `json:"events"`
	SMTPHost      string                          `json:"smtpHost"`
	SMTPPort      int                             `json:"smtpPort"`
	SMTPUsername  string                          `json:"smtpUsername"`
	SMTPPassword  string                          `json:"smtpPassword"`
	From          string                          `json:"from"`
	To            []string                        `json:"to"`
	WebhookURL    string                          `json:"webhookUrl"`
	WebhookFormat scorebridge.WebhookFormat       `json:"webhookFormat"`
	WebhookSecret string                          `json:"webhookSecret"`
}

func (in targetInput) target(id string) (*scorebridge.NotificationTarget, scorebridge.NotificationSecrets) {
	t := &scorebridge.NotificationTarget{
		ID: id, Name: in.Name, Channel: in.Channel, Enabled: in.Enabled == nil || *in.Enabled, Digest: in.Digest, Events: in.Events,
		SMTPHost: in.SMTPHost, SMTPPort: in.SMTPPort, SMTPUsername: in.SMTPUsername, From: in.From, To: in.To,
		WebhookFormat: in.WebhookFormat,
	}
	return t, scorebridge.NotificationSecrets{SMTPPassword: in.SMTPPassword, WebhookURL: in.WebhookURL, WebhookSecret: in.WebhookSecret}
}

// readTargetInput reads a target body: one JSON object of targetInput's
// members and no others.
func readTargetInput(w http.ResponseWriter, r *http.Request) (targetInput, error) {
	var in targetInput
	members, err := readJSONObject(w, r)
	if err != nil {
		return in, err
	}
	obj := make(map[string]json.RawMessage, len(members))
	for _, m := range members {
		obj[m.Name] = m.Value
	}
	body, _ := json.Marshal(obj)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return in, scorebridge.FieldErrorf(te.Field, "%s must be a %s", te.Field, te.Type.Kind())
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return in, scorebridge.FieldErrorf(name, "%q is not a member of a notification target", name)
		}
		return in, scorebridge.Errorf(scorebridge.EINVALID, "The body is not a notification target.")
	}
	return in, nil
}

func (s *Server) handleAPITargetList(w http.ResponseWriter, r *http.Request) {
	list, err := s.notifications.FindTargets(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) handleAPITargetGet(w http.ResponseWriter, r *http.Request) {
	t, err := s.notifications.FindTarget(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// createdTarget is a new target with, for a webhook the center made a
// signing secret for, that secret: shown this once, never again.
type createdTarget struct {
	*scorebridge.NotificationTarget
	SigningSecret string `json:"signingSecret,omitempty"`
}

func (s *Server) handleAPITargetCreate(w http.ResponseWriter, r *http.Request) {
	in, err := readTargetInput(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	t, sec := in.target("")
	made, err := s.notifications.CreateTarget(r.Context(), t, sec)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createdTarget{NotificationTarget: t, SigningSecret: made})
}

func (s *Server) handleAPITargetPut(w http.ResponseWriter, r *http.Request) {
	in, err := readTargetInput(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	t, sec := in.target(r.PathValue("id"))
	if err := s.notifications.UpdateTarget(r.Context(), t, sec); err != nil {
		s.error(w, r, err)
		return
	}
	t, err = s.notifications.FindTarget(r.Context(), t.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleAPITargetDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.notifications.DeleteTarget(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAPITargetTest(w http.ResponseWriter, r *http.Request) {
	if err := s.notifications.TestTarget(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"delivered": true})
}

// notificationsPage lists the targets, failing ones first in the eye.
type notificationsPage struct {
	pageBase
	Targets       []*scorebridge.NotificationTarget
	Kinds         []scorebridge.NotificationKind
	Form          targetInput
	FormChannel   string
	FieldErrors   map[string]string
	Error         string
	SigningSecret string
}

func (s *Server) renderNotifications(w http.ResponseWriter, r *http.Request, status int, page *notificationsPage) {
	list, err := s.notifications.FindTargets(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	page.pageBase = pageBase{Title: "Notifications", Nav: "notifications", Notice: page.Notice}
	page.Targets, page.Kinds = list, scorebridge.NotificationKinds
	if page.FieldErrors == nil {
		page.FieldErrors = map[string]string{}
	}
	s.render(w, r, status, "notifications", page)
}

func (s *Server) handleNotificationsPage(w http.ResponseWriter, r *http.Request) {
	page := &notificationsPage{}
	switch r.URL.Query().Get("done") {
	case "created":
		page.Notice = "Target added."
	case "tested":
		page.Notice = "Test message delivered."
	case "deleted":
		page.Notice = "Target removed."
	case "saved":
		page.Notice = "Target saved."
	}
	s.renderNotifications(w, r, http.StatusOK, page)
}

// targetFormInput reads a target from the page's add or edit form.
func targetFormInput(f url.Values) targetInput {
	port, _ := strconv.Atoi(strings.TrimSpace(f.Get("smtpPort")))
	in := targetInput{
		Name: f.Get("name"), Channel: scorebridge.NotificationChannel(f.Get("channel")), Digest: scorebridge.DigestPeriod(f.Get("digest")),
		SMTPHost: f.Get("smtpHost"), SMTPPort: port, SMTPUsername: f.Get("smtpUsername"), SMTPPassword: f.Get("smtpPassword"),
		From: f.Get("from"), To: strings.FieldsFunc(f.Get("to"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' }),
		WebhookURL: f.Get("webhookUrl"), WebhookFormat: scorebridge.WebhookFormat(f.Get("webhookFormat")), WebhookSecret: f.Get("webhookSecret"),
	}
	for _, k := range f["events"] {
		in.Events = append(in.Events, scorebridge.NotificationKind(k))
	}
	return in
}

// handleNotificationCreate adds a target from the page's form; the form
// never gets a secret back, and a made signing secret is shown once.
func (s *Server) handleNotificationCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	in := targetFormInput(r.PostForm)
	t, sec := in.target("")
	made, err := s.notifications.CreateTarget(r.Context(), t, sec)
	if err != nil {
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			s.error(w, r, err)
			return
		}
		in.SMTPPassword, in.WebhookURL, in.WebhookSecret = "", "", ""
		field := scorebridge.ErrorField(err)
		if field == "" {
			field = "name"
		}
		s.renderNotifications(w, r, http.StatusBadRequest, &notificationsPage{Form: in, FormChannel: string(in.Channel),
			FieldErrors: map[string]string{field: scorebridge.ErrorMessage(err)}, Error: "The target was not added: correct the field marked below."})
		return
	}
	if made != "" {
		// Shown in this answer only, so the receiver can check signatures.
		page := &notificationsPage{SigningSecret: made}
		page.Notice = "Target added."
		s.renderNotifications(w, r, http.StatusOK, page)
		return
	}
	http.Redirect(w, r, "/notifications?done=created", http.StatusSeeOther)
}

func (s *Server) handleNotificationTest(w http.ResponseWriter, r *http.Request) {
	if err := s.notifications.TestTarget(r.Context(), r.PathValue("id")); err != nil {
		if scorebridge.ErrorCode(err) == scorebridge.EUNAVAILABLE {
			s.renderNotifications(w, r, http.StatusBadGateway, &notificationsPage{Error: scorebridge.ErrorMessage(err)})
			return
		}
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/notifications?done=tested", http.StatusSeeOther)
}

func (s *Server) handleNotificationEnabled(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	t, err := s.notifications.FindTarget(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	t.Enabled = r.PostForm.Get("enabled") == "true"
	if err := s.notifications.UpdateTarget(r.Context(), t, scorebridge.NotificationSecrets{}); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/notifications?done=saved", http.StatusSeeOther)
}

func (s *Server) handleNotificationDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.notifications.DeleteTarget(r.Context(), r.PathValue("id")); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/notifications?done=deleted", http.StatusSeeOther)
}
