package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// settingsRoutes are the Settings page and its API, for admins.
func (s *Server) settingsRoutes() []route {
	if s.settings == nil {
		return nil
	}
	const admin = scorebridge.RoleAdmin
	return []route{
		{"GET /settings", admin, s.handleSettingsPage},
		{"POST /settings", admin, s.handleSettingsSave},
		{"GET /api/v1/settings", admin, s.handleAPISettingsGet},
		{"PUT /api/v1/settings", admin, s.handleAPISettingsPut},
	}
}

// settingField is one setting as the form shows it.
type settingField struct {
	scorebridge.SettingDef
	Value string
	Error string
}

// settingsSection is a titled part of the Settings page with its own form.
// The sections of scorebridge.SettingDefs come first, one per Section;
// a part of the center that keeps its settings in a store of its own adds
// a section in settingsSections, with its own Action (the form's POST
// route) and fields of the same kinds.
type settingsSection struct {
	Title  string
	Action string
	Fields []settingField
}

type settingsPage struct {
	pageBase
	Sections  []settingsSection
	UpdatedAt time.Time
	UpdatedBy string
	Error     string
}

// settingsSections groups the settings by section, in SettingDefs order,
// with the values in force (or those typed, when a save was refused).
func settingsSections(cur scorebridge.Settings, typed map[string]string, errs map[string]string) []settingsSection {
	var out []settingsSection
	index := map[string]int{}
	for _, d := range scorebridge.SettingDefs {
		i, ok := index[d.Section]
		if !ok {
			i = len(out)
			index[d.Section] = i
			out = append(out, settingsSection{Title: d.Section, Action: "/settings"})
		}
		v := cur.Get(d.Key)
		if t, ok := typed[d.Key]; ok {
			v = t
		}
		out[i].Fields = append(out[i].Fields, settingField{SettingDef: d, Value: v, Error: errs[d.Key]})
	}
	return out
}

func (s *Server) handleSettingsPage(w http.ResponseWriter, r *http.Request) {
	cur, err := s.settings.Settings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	notice := ""
	if r.URL.Query().Get("done") == "saved" {
		notice = "Settings saved."
	}
	s.renderSettings(w, r, http.StatusOK, cur, nil, nil, notice)
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, status int, cur scorebridge.Settings, typed, errs map[string]string, notice string) {
	page := &settingsPage{
		pageBase:  pageBase{Title: "Settings", Nav: "settings", Notice: notice},
		Sections:  append(settingsSections(cur, typed, errs), s.slaSections(r, typed, errs)...),
		UpdatedAt: cur.UpdatedAt, UpdatedBy: cur.UpdatedBy,
	}
	if len(errs) > 0 {
		page.Error = "Nothing was saved: correct the setting marked below."
	}
	s.render(w, r, status, "settings", page)
}

// handleSettingsSave stores the form. A checkbox left unticked is not
// sent by the browser, so a bool setting the form shows is false unless
// ticked.
func (s *Server) handleSettingsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	change := map[string]string{}
	for _, d := range scorebridge.SettingDefs {
		if d.Kind == scorebridge.SettingBool {
			change[d.Key] = strconv.FormatBool(r.PostForm.Get(d.Key) == "true")
			continue
		}
		if v, ok := r.PostForm[d.Key]; ok {
			change[d.Key] = strings.Join(v, ",")
		}
	}
	if _, err := s.settings.UpdateSettings(r.Context(), change); err != nil {
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			s.error(w, r, err)
			return
		}
		cur, cerr := s.settings.Settings(r.Context())
		if cerr != nil {
			s.error(w, r, cerr)
			return
		}
		s.renderSettings(w, r, http.StatusBadRequest, cur, change, map[string]string{scorebridge.ErrorField(err): scorebridge.ErrorMessage(err)}, "")
		return
	}
	http.Redirect(w, r, "/settings?done=saved", http.StatusSeeOther)
}

// settingsResponse is the API's view: each setting's value in its JSON
// type (a string, true/false, a number of minutes), and the definitions a
// client needs to show them.
type settingsResponse struct {
	Values      map[string]any           `json:"values"`
	Definitions []scorebridge.SettingDef `json:"definitions"`
	UpdatedAt   *time.Time               `json:"updatedAt,omitempty"`
	UpdatedBy   string                   `json:"updatedBy,omitempty"`
}

func newSettingsResponse(cur scorebridge.Settings) settingsResponse {
	out := settingsResponse{Values: map[string]any{}, Definitions: scorebridge.SettingDefs, UpdatedBy: cur.UpdatedBy}
	for _, d := range scorebridge.SettingDefs {
		v := cur.Get(d.Key)
		switch d.Kind {
		case scorebridge.SettingBool:
			out.Values[d.Key], _ = strconv.ParseBool(v)
		case scorebridge.SettingMinutes:
			out.Values[d.Key], _ = strconv.Atoi(v)
		default:
			out.Values[d.Key] = v
		}
	}
	if !cur.UpdatedAt.IsZero() {
		t := cur.UpdatedAt
		out.UpdatedAt = &t
	}
	return out
}

func (s *Server) handleAPISettingsGet(w http.ResponseWriter, r *http.Request) {
	cur, err := s.settings.Settings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newSettingsResponse(cur))
}

// handleAPISettingsPut changes the settings the body names (an object of
// key: value, in the JSON types GET answers); the others stay.
func (s *Server) handleAPISettingsPut(w http.ResponseWriter, r *http.Request) {
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	change := map[string]string{}
	for _, m := range members {
		d, ok := scorebridge.SettingDefByKey(m.Name)
		if !ok {
			s.error(w, r, scorebridge.FieldErrorf(m.Name, "%q is not a setting", m.Name))
			return
		}
		v, err := settingValue(d, m.Value)
		if err != nil {
			s.error(w, r, err)
			return
		}
		change[m.Name] = v
	}
	cur, err := s.settings.UpdateSettings(r.Context(), change)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newSettingsResponse(cur))
}

// settingValue reads a setting's JSON value as its text: a bool setting
// takes true/false, a minutes setting a whole number, a choice a string.
func settingValue(d scorebridge.SettingDef, raw json.RawMessage) (string, error) {
	switch d.Kind {
	case scorebridge.SettingBool:
		var b bool
		if isNull(raw) || json.Unmarshal(raw, &b) != nil {
			return "", scorebridge.FieldErrorf(d.Key, "%s must be true or false", d.Key)
		}
		return strconv.FormatBool(b), nil
	case scorebridge.SettingMinutes:
		var n json.Number
		if isNull(raw) || json.Unmarshal(raw, &n) != nil {
			return "", scorebridge.FieldErrorf(d.Key, "%s must be a whole number of minutes", d.Key)
		}
		return n.String(), nil
	}
	var v string
	if isNull(raw) || json.Unmarshal(raw, &v) != nil {
		return "", scorebridge.FieldErrorf(d.Key, "%s must be a string", d.Key)
	}
	return v, nil
}
