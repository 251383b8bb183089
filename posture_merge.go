package scorebridge

import (
	"bytes"
	"slices"
	"time"
)

// ImportChange says what applying one record did to its action.
type ImportChange int

const (
	ImportUnchanged ImportChange = iota
	ImportAdded
	ImportUpdated
)

// MergeImported is the rule for applying a source's record to the action
// already kept for it (nil when there is none). It returns the action as it
// must be stored, what changed, and the state change to record, if any.
//
//   - The center's state is kept unless the source's own state changed since
//     the last import (then the source's wins), so a state an admin set
//     survives a re-import.
//   - A Graph score without its profile keeps the profile fields on hand; a
//     profile without a score keeps the score on hand.
//   - A control that was achieved and no longer is becomes Regressed; one
//     the center had marked done goes back on the to-do list.
//   - An action the source lists again is no longer retired.
func MergeImported(old *Recommendation, in ImportRecord, sourceID, tool string, now time.Time) (*Recommendation, ImportChange, *StateChange) {
	r := in.Rec
	r.ID = ImportedID(sourceID, in.ExternalID)
	r.Source = SourceMicrosoft
	if tool == ToolUser {
		r.Source = SourceUser
	}
	r.SourceTool = tool
	r.SourceID = sourceID
	r.ExternalID = in.ExternalID
	r.SourceStatus = in.SourceStatus
	r.Unscored = !in.Scored
	r.RetiredAt = nil
	if r.Threats == nil {
		r.Threats = []string{}
	}
	if old == nil {
		r.State = in.SourceState
		if r.State == "" {
			r.State = StateToAddress
		}
		r.CreatedAt, r.UpdatedAt = now, now
		return &r, ImportAdded, nil
	}
	r.CreatedBy, r.CreatedAt, r.UpdatedAt = old.CreatedBy, old.CreatedAt, old.UpdatedAt
	if !in.HasProfile {
		r.Title, r.Description, r.Remediation = old.Title, old.Description, old.Remediation
		r.Category, r.Service, r.Tier = old.Category, old.Service, old.Tier
		r.UserImpact, r.ImplementationCost, r.Threats = old.UserImpact, old.ImplementationCost, old.Threats
		r.Raw = old.Raw
		if old.MaxScore > 0 {
			r.MaxScore = old.MaxScore
		}
		if r.CurrentScore > r.MaxScore {
			r.CurrentScore = r.MaxScore
		}
	}
	if !in.HasScore {
		r.CurrentScore, r.Unscored = old.CurrentScore, old.Unscored
		if r.CurrentScore > r.MaxScore {
			r.CurrentScore = r.MaxScore
		}
		r.SourceStatus = old.SourceStatus
		if in.SourceStatus != "" {
			r.SourceStatus = in.SourceStatus
		}
	}
	r.State = old.State
	note := ""
	if in.SourceState != "" && in.SourceStatus != old.SourceStatus {
		r.State = in.SourceState
		note = "The source's state is now " + in.SourceStatus + "."
	}
	r.RegressedAt = old.RegressedAt
	switch {
	case Regressed(old.MaxScore, old.CurrentScore, r.MaxScore, r.CurrentScore) && !r.Unscored:
		t := now
		r.RegressedAt = &t
		if in.SourceState == "" && (r.State == StateCompleted || r.State == StateThirdParty) {
			r.State = StateToAddress
			note = "Regressed: the source no longer finds this control achieved."
		}
	case Achieved(r.MaxScore, r.CurrentScore):
		r.RegressedAt = nil
	}
	if importedEqual(old, &r) {
		return old, ImportUnchanged, nil
	}
	r.UpdatedAt = now
	var change *StateChange
	if r.State != old.State {
		change = &StateChange{RecommendationID: r.ID, From: old.State, To: r.State, Note: note, ChangedAt: now}
	}
	return &r, ImportUpdated, change
}

func importedEqual(a, b *Recommendation) bool {
	return a.ID == b.ID && a.Title == b.Title && a.Description == b.Description &&
		a.Remediation == b.Remediation && a.Category == b.Category && a.Source == b.Source &&
		a.SourceTool == b.SourceTool && a.Service == b.Service && a.Tier == b.Tier &&
		a.UserImpact == b.UserImpact && a.ImplementationCost == b.ImplementationCost &&
		slices.Equal(a.Threats, b.Threats) && a.MaxScore == b.MaxScore &&
		a.CurrentScore == b.CurrentScore && a.State == b.State && bytes.Equal(a.Raw, b.Raw) &&
		a.SourceID == b.SourceID && a.ExternalID == b.ExternalID && a.SourceStatus == b.SourceStatus &&
		a.Unscored == b.Unscored && timeEqual(a.RetiredAt, b.RetiredAt) && timeEqual(a.RegressedAt, b.RegressedAt)
}

func timeEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
