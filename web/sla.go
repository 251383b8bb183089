package web

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// slaRoutes are the SLA's API and the form of its section on the
// Settings page, for admins.
func (s *Server) slaRoutes() []route {
	if s.sla == nil {
		return nil
	}
	const admin = scorebridge.RoleAdmin
	return []route{
		{"POST /settings/sla", admin, s.handleSLASave},
		{"GET /api/v1/sla", admin, s.handleAPISLAGet},
		{"PUT /api/v1/sla", admin, s.handleAPISLAPut},
	}
}

// The SLA fields' form names: sla.p1 ... sla.p5, sla.graceDays,
// sla.overdueWorkNote.
const (
	slaFieldGrace    = "sla.graceDays"
	slaFieldWorkNote = "sla.overdueWorkNote"
)

func slaDaysField(p int) string { return "sla.p" + strconv.Itoa(p) }

var slaPriorityLabels = map[int]string{1: "P1 (Critical)", 2: "P2 (High)", 3: "P3 (Moderate)", 4: "P4 (Low)", 5: "P5 (Planning)"}

// slaSection is the SLA's section of the Settings page, with the values
// in force or those typed when a save was refused.
func slaSection(cur *scorebridge.SLA, typed, errs map[string]string) settingsSection {
	sec := settingsSection{Title: "Ticket SLAs", Action: "/settings/sla"}
	add := func(key, label, help string, kind scorebridge.SettingKind, v string) {
		if t, ok := typed[key]; ok {
			v = t
		}
		sec.Fields = append(sec.Fields, settingField{SettingDef: scorebridge.SettingDef{Key: key, Section: sec.Title, Label: label, Help: help, Kind: kind}, Value: v, Error: errs[key]})
	}
	for _, p := range scorebridge.SLAPriorities {
		add(slaDaysField(p), "Days to close a "+slaPriorityLabels[p]+" ticket", "A ticket shared or made by a rule without a due date of its own is due this many days after it is made; the due date is sent to ServiceNow.", "days", strconv.Itoa(cur.DueDays[p]))
	}
	add(slaFieldGrace, "Grace days", "Days past the due date before a ticket counts as overdue.", "days", strconv.Itoa(cur.GraceDays))
	add(slaFieldWorkNote, "Add a work note in ServiceNow when a ticket goes overdue", "Once per ticket, saying its due date has passed.", scorebridge.SettingBool, strconv.FormatBool(cur.OverdueWorkNote))
	return sec
}

// slaSections is the SLA section for the Settings page; none when the
// center has no SLA or it cannot be read (logged).
func (s *Server) slaSections(r *http.Request, typed, errs map[string]string) []settingsSection {
	if s.sla == nil {
		return nil
	}
	cur, err := s.sla.SLA(r.Context())
	if err != nil {
		s.logger.Error("SLA not read for the settings page", "error", err)
		return nil
	}
	return []settingsSection{slaSection(cur, typed, errs)}
}

// handleSLASave stores the SLA section's form; a refused value shows the
// Settings page again with the value typed and what is wrong with it.
func (s *Server) handleSLASave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	typed := map[string]string{}
	u := scorebridge.SLAUpdate{DueDays: map[int]int{}}
	var err error
	number := func(key string) int {
		v := strings.TrimSpace(r.PostForm.Get(key))
		typed[key] = v
		n, perr := strconv.Atoi(v)
		if perr != nil && err == nil {
			err = scorebridge.FieldErrorf(key, "%q is not a whole number of days", v)
		}
		return n
	}
	for _, p := range scorebridge.SLAPriorities {
		u.DueDays[p] = number(slaDaysField(p))
	}
	grace := number(slaFieldGrace)
	note := r.PostForm.Get(slaFieldWorkNote) == "true"
	typed[slaFieldWorkNote] = strconv.FormatBool(note)
	u.GraceDays, u.OverdueWorkNote = &grace, &note
	if err == nil {
		_, err = s.sla.UpdateSLA(r.Context(), u)
		if err != nil && scorebridge.ErrorCode(err) == scorebridge.EINVALID {
			// The domain names the API's field (dueDays.3); the form's
			// is sla.p3.
			f := scorebridge.ErrorField(err)
			if strings.HasPrefix(f, "dueDays.") {
				f = "sla.p" + strings.TrimPrefix(f, "dueDays.")
			} else {
				f = "sla." + f
			}
			err = scorebridge.FieldErrorf(f, "%s", scorebridge.ErrorMessage(err))
		}
	}
	if err == nil {
		http.Redirect(w, r, "/settings?done=saved", http.StatusSeeOther)
		return
	}
	if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
		s.error(w, r, err)
		return
	}
	var cur scorebridge.Settings
	if s.settings != nil {
		var serr error
		if cur, serr = s.settings.Settings(r.Context()); serr != nil {
			s.error(w, r, serr)
			return
		}
	}
	s.renderSettings(w, r, http.StatusBadRequest, cur, typed, map[string]string{scorebridge.ErrorField(err): scorebridge.ErrorMessage(err)}, "")
}

// slaResponse is the SLA as the API shows it: dueDays keyed by priority.
type slaResponse struct {
	DueDays         map[string]int `json:"dueDays"`
	GraceDays       int            `json:"graceDays"`
	OverdueWorkNote bool           `json:"overdueWorkNote"`
	UpdatedAt       *time.Time     `json:"updatedAt,omitempty"`
	UpdatedBy       string         `json:"updatedBy,omitempty"`
}

func newSLAResponse(s *scorebridge.SLA) slaResponse {
	out := slaResponse{DueDays: map[string]int{}, GraceDays: s.GraceDays, OverdueWorkNote: s.OverdueWorkNote, UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy}
	for p, d := range s.DueDays {
		out.DueDays[strconv.Itoa(p)] = d
	}
	return out
}

func (s *Server) handleAPISLAGet(w http.ResponseWriter, r *http.Request) {
	cur, err := s.sla.SLA(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newSLAResponse(cur))
}

// handleAPISLAPut changes the members sent: {"dueDays": {"2": 21},
// "graceDays": 1, "overdueWorkNote": true}; the rest stays.
func (s *Server) handleAPISLAPut(w http.ResponseWriter, r *http.Request) {
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	u, err := parseSLAUpdate(members)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cur, err := s.sla.UpdateSLA(r.Context(), u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newSLAResponse(cur))
}

func parseSLAUpdate(members []jsonMember) (scorebridge.SLAUpdate, error) {
	var u scorebridge.SLAUpdate
	for _, m := range members {
		switch m.Name {
		case "dueDays":
			var raw map[string]json.RawMessage
			if isNull(m.Value) || json.Unmarshal(m.Value, &raw) != nil {
				return u, scorebridge.FieldErrorf("dueDays", "dueDays must be an object of priority: days, such as {\"1\": 7}")
			}
			u.DueDays = map[int]int{}
			for k, v := range raw {
				p, err := strconv.Atoi(k)
				if err != nil {
					return u, scorebridge.FieldErrorf("dueDays."+k, "%q is not a priority: priorities go from 1 (Critical) to 5 (Planning)", k)
				}
				d, err := wholeNumber(jsonMember{Name: "dueDays." + k, Value: v})
				if err != nil {
					return u, err
				}
				u.DueDays[p] = d
			}
		case "graceDays":
			d, err := wholeNumber(m)
			if err != nil {
				return u, err
			}
			u.GraceDays = &d
		case "overdueWorkNote":
			b, err := decodeBool(m)
			if err != nil {
				return u, err
			}
			u.OverdueWorkNote = &b
		default:
			return u, scorebridge.FieldErrorf(m.Name, "unknown member %q; the SLA takes dueDays, graceDays and overdueWorkNote", m.Name)
		}
	}
	return u, nil
}

// wholeNumber reads a member that must be a whole JSON number.
func wholeNumber(m jsonMember) (int, error) {
	f, err := decodeNumber(m)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, scorebridge.FieldErrorf(m.Name, "%s must be a whole number", m.Name)
	}
	return int(f), nil
}
