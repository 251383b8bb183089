package web

import (
	"net/http"

	"github.com/scorebridge/scorebridge"
)

// notificationEditPage is one target's settings in a form. Secrets are
// never shown: an empty secret field keeps the stored one.
type notificationEditPage struct {
	pageBase
	Target      *scorebridge.NotificationTarget
	Kinds       []scorebridge.NotificationKind
	Events      map[scorebridge.NotificationKind]bool
	FieldErrors map[string]string
	Error       string
}

func (s *Server) renderNotificationEdit(w http.ResponseWriter, r *http.Request, status int, t *scorebridge.NotificationTarget, fieldErrors map[string]string, problem string) {
	events := map[scorebridge.NotificationKind]bool{}
	for _, k := range t.Events {
		events[k] = true
	}
	if fieldErrors == nil {
		fieldErrors = map[string]string{}
	}
	s.render(w, r, status, "notification_edit", &notificationEditPage{pageBase: pageBase{Title: "Edit target: " + t.Name, Nav: "notifications"},
		Target: t, Kinds: scorebridge.NotificationKinds, Events: events, FieldErrors: fieldErrors, Error: problem})
}

func (s *Server) handleNotificationEditPage(w http.ResponseWriter, r *http.Request) {
	t, err := s.notifications.FindTarget(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.renderNotificationEdit(w, r, http.StatusOK, t, nil, "")
}

// handleNotificationEdit saves the edit form. The target keeps its
// channel and whether it is on (the list's own button turns it off).
func (s *Server) handleNotificationEdit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	old, err := s.notifications.FindTarget(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	in := targetFormInput(r.PostForm)
	in.Channel = old.Channel
	t, sec := in.target(old.ID)
	t.Enabled = old.Enabled
	err = s.notifications.UpdateTarget(r.Context(), t, sec)
	if scorebridge.ErrorCode(err) == scorebridge.EINVALID {
		field := scorebridge.ErrorField(err)
		if field == "" {
			field = "name"
		}
		t.WebhookHost = old.WebhookHost
		s.renderNotificationEdit(w, r, http.StatusBadRequest, t, map[string]string{field: scorebridge.ErrorMessage(err)},
			"The target was not saved: correct the field marked below.")
		return
	} else if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/notifications?done=saved", http.StatusSeeOther)
}
