package web

import (
	"unicode/utf8"

	"github.com/scorebridge/scorebridge"
)

// maxStateNoteLength caps the note kept with a state change.
const maxStateNoteLength = 2000

// readOnlyFields are the members a client sees in an item but may not send:
// scorebridge sets them. Naming them gives a clearer error than "unknown".
var readOnlyFields = map[string]bool{
	"sourceTool": true, "raw": true, "createdBy": true, "createdAt": true, "updatedAt": true,
	"sourceLabel": true, "stateLabel": true, "earnedScore": true, "scoreImpact": true,
}

// decodeUpdate reads the editable members of a recommendation into upd.
// extra handles the members only one endpoint accepts (id and source on
// create, stateNote on PATCH); it reports whether it knew the member. Any
// other member is refused, naming it.
func decodeUpdate(members []jsonMember, extra func(m jsonMember) (bool, error)) (scorebridge.RecommendationUpdate, error) {
	var upd scorebridge.RecommendationUpdate
	for _, m := range members {
		var err error
		switch m.Name {
		case "title":
			upd.Title, err = stringField(m)
		case "description":
			upd.Description, err = stringField(m)
		case "remediation":
			upd.Remediation, err = stringField(m)
		case "service":
			upd.Service, err = stringField(m)
		case "tier":
			upd.Tier, err = stringField(m)
		case "userImpact":
			upd.UserImpact, err = stringField(m)
		case "implementationCost":
			upd.ImplementationCost, err = stringField(m)
		case "category":
			var s string
			if s, err = decodeString(m); err == nil {
				c, ok := scorebridge.ParseCategory(s)
				if !ok {
					err = scorebridge.Category(s).Validate()
				}
				upd.Category = &c
			}
		case "state":
			var s string
			if s, err = decodeString(m); err == nil {
				st := scorebridge.State(s)
				err = st.Validate()
				upd.State = &st
			}
		case "threats":
			var ts []string
			if ts, err = decodeStrings(m); err == nil {
				upd.Threats = &ts
			}
		case "maxScore":
			var f float64
			if f, err = decodeNumber(m); err == nil {
				upd.MaxScore = &f
			}
		case "currentScore":
			var f float64
			if f, err = decodeNumber(m); err == nil {
				upd.CurrentScore = &f
			}
		default:
			known := false
			if extra != nil {
				known, err = extra(m)
			}
			if !known && err == nil {
				if readOnlyFields[m.Name] {
					err = scorebridge.FieldErrorf(m.Name, "%s is set by scorebridge and cannot be written", m.Name)
				} else {
					err = scorebridge.FieldErrorf(m.Name, "unknown field %q", m.Name)
				}
			}
		}
		if err != nil {
			return upd, err
		}
	}
	return upd, nil
}

func stringField(m jsonMember) (*string, error) {
	s, err := decodeString(m)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// onlyStateFields reports whether upd changes nothing but the state, its
// note and the achieved score: what an operator may change.
func onlyStateFields(upd scorebridge.RecommendationUpdate) bool {
	u := upd
	u.State, u.CurrentScore, u.StateNote = nil, nil, ""
	return u == (scorebridge.RecommendationUpdate{})
}

// validStateNote checks the note kept in the history.
func validStateNote(field, note string) error {
	if !utf8.ValidString(note) {
		return scorebridge.FieldErrorf(field, "%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(note); n > maxStateNoteLength {
		return scorebridge.FieldErrorf(field, "%s must be at most %d characters (got %d)", field, maxStateNoteLength, n)
	}
	return nil
}
