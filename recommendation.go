package scorebridge

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Category groups improvement actions the way Secure Score does.
type Category string

const (
	CategoryIdentity       Category = "Identity"
	CategoryData           Category = "Data"
	CategoryDevices        Category = "Devices"
	CategoryApps           Category = "Apps"
	CategoryInfrastructure Category = "Infrastructure"
)

// Categories lists every category in display order. A new category is
// added here and nowhere else: checks and their messages read this list.
var Categories = []Category{CategoryIdentity, CategoryData, CategoryDevices, CategoryApps, CategoryInfrastructure}

// Validate returns EINVALID unless ParseCategory accepts c.
func (c Category) Validate() error {
	if _, ok := ParseCategory(string(c)); !ok || c == "" {
		return notOneOf("category", Categories, string(c))
	}
	return nil
}

// ParseCategory accepts a category name in any case, and Graph's "Device".
func ParseCategory(s string) (Category, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "Device") {
		return CategoryDevices, true
	}
	for _, c := range Categories {
		if strings.EqualFold(s, string(c)) {
			return c, true
		}
	}
	return "", false
}

// Source says who recommends an action. The value is what the API speaks;
// Label is what a page and a ServiceNow ticket show.
type Source string

const (
	SourceMicrosoft Source = "microsoft"
	SourceUser      Source = "user"
)

// Sources lists every source. A new source is added here (with its Label)
// and nowhere else.
var Sources = []Source{SourceMicrosoft, SourceUser}

// Label returns the name Secure Score uses for the source.
func (s Source) Label() string {
	switch s {
	case SourceMicrosoft:
		return "Microsoft recommendation"
	case SourceUser:
		return "User recommendation"
	}
	return string(s)
}

// Valid reports whether s is one of Sources.
func (s Source) Valid() bool { return oneOf(Sources, s) }

// Validate returns EINVALID unless s is one of Sources.
func (s Source) Validate() error {
	if !s.Valid() {
		return notOneOf("source", Sources, string(s))
	}
	return nil
}

// State is the control state an admin gives an action.
type State string

const (
	StateToAddress    State = "to_address"
	StatePlanned      State = "planned"
	StateRiskAccepted State = "risk_accepted"
	StateThirdParty   State = "third_party"
	StateCompleted    State = "completed"
)

// States lists every state in display order.
var States = []State{StateToAddress, StatePlanned, StateRiskAccepted, StateThirdParty, StateCompleted}

// Label returns the name a person reads.
func (s State) Label() string {
	switch s {
	case StateToAddress:
		return "To address"
	case StatePlanned:
		return "Planned"
	case StateRiskAccepted:
		return "Risk accepted"
	case StateThirdParty:
		return "Resolved through third party"
	case StateCompleted:
		return "Completed"
	}
	return string(s)
}

// Valid reports whether s is one of States.
func (s State) Valid() bool { return oneOf(States, s) }

// Validate returns EINVALID unless s is one of States.
func (s State) Validate() error {
	if !s.Valid() {
		return notOneOf("state", States, string(s))
	}
	return nil
}

// OnToDoList reports whether an action in this state still asks for work.
// Risk accepted leaves the list, as do the two resolved states.
func (s State) OnToDoList() bool { return s == StateToAddress || s == StatePlanned }

// Source tools: which producer a recommendation came from.
const (
	ToolCatalog   = "catalog"   // the built-in catalog shipped with scorebridge
	ToolUser      = "user"      // written by an admin in the center
	ToolGraph     = "graph"     // Microsoft Graph Secure Score
	ToolScubaGear = "scubagear" // CISA ScubaGear results
	ToolProwler   = "prowler"   // Prowler OCSF findings
)

// Field limits, checked before anything is stored.
const (
	MaxIDLength          = 128
	MaxTitleLength       = 300
	MaxDescriptionLength = 20000
	MaxRemediationLength = 100000
	MaxShortFieldLength  = 200 // service, tier, user impact, implementation cost, one threat
	MaxThreats           = 50
	MaxScoreLimit        = 1000
)

// Recommendation is one security improvement action.
type Recommendation struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Remediation is HTML kept verbatim from the source; pages sanitise it
	// before showing it.
	Remediation        string   `json:"remediation"`
	Category           Category `json:"category"`
	Source             Source   `json:"source"`
	SourceTool         string   `json:"sourceTool"`
	Service            string   `json:"service"`
	Tier               string   `json:"tier"`
	UserImpact         string   `json:"userImpact"`
	ImplementationCost string   `json:"implementationCost"`
	Threats            []string `json:"threats"`
	MaxScore           float64  `json:"maxScore"`
	// CurrentScore is the score the posture data says is achieved (partial
	// credit included). What counts towards the Secure Score also depends on
	// State: see EarnedScore.
	CurrentScore float64 `json:"currentScore"`
	State        State   `json:"state"`
	// Raw is the source record byte-for-byte, so an import never loses data.
	Raw json.RawMessage `json:"raw,omitempty"`

	// Imported actions: the posture source and the record's id there, and
	// the source's own verdict or state verbatim.
	SourceID     string `json:"sourceId,omitempty"`
	ExternalID   string `json:"externalId,omitempty"`
	SourceStatus string `json:"sourceStatus,omitempty"`
	// Unscored keeps an action out of the score: a profile the source's
	// score does not list, a check the source did not assess.
	Unscored bool `json:"unscored"`
	// RetiredAt is when the source stopped listing the action; a retired
	// action is kept, with its tickets and history, but no longer counts.
	RetiredAt *time.Time `json:"retiredAt,omitempty"`
	// RegressedAt is when a control that was achieved stopped being so;
	// nil once it is achieved again.
	RegressedAt *time.Time `json:"regressedAt,omitempty"`

	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// EarnedScore is what the action contributes to the Secure Score.
func (r *Recommendation) EarnedScore() float64 {
	return EarnedScore(r.State, r.MaxScore, r.CurrentScore)
}

// ScoreImpact is how many points are still to be won by addressing the action.
func (r *Recommendation) ScoreImpact() float64 {
	if !r.State.OnToDoList() || !r.Counts() {
		return 0
	}
	return r.MaxScore - r.EarnedScore()
}

// Counts reports whether the action counts toward the score at all (the
// built-in catalog aside, which stops counting once real data is in).
func (r *Recommendation) Counts() bool { return !r.Unscored && r.RetiredAt == nil }

// Imported reports whether the action came from a posture source.
func (r *Recommendation) Imported() bool { return r.SourceID != "" }

// Validate checks the fields a store would persist. It returns an EINVALID
// error naming the first bad field.
func (r *Recommendation) Validate() error {
	if r.ID == "" {
		return FieldErrorf("id", "id is required")
	} else if len(r.ID) > MaxIDLength {
		return FieldErrorf("id", "id must be at most %d characters", MaxIDLength)
	} else if !validID(r.ID) {
		return FieldErrorf("id", "id may hold only letters, digits, '.', '_' and '-'")
	} else if ReservedID(r.ID) {
		return FieldErrorf("id", "id must not be %q: it would name another page", r.ID)
	}
	if err := validText("title", r.Title, MaxTitleLength, true); err != nil {
		return err
	}
	if err := validText("description", r.Description, MaxDescriptionLength, false); err != nil {
		return err
	}
	if err := validText("remediation", r.Remediation, MaxRemediationLength, false); err != nil {
		return err
	}
	if err := r.Category.Validate(); err != nil {
		return err
	}
	if err := r.Source.Validate(); err != nil {
		return err
	}
	for name, v := range map[string]string{"service": r.Service, "tier": r.Tier, "userImpact": r.UserImpact, "implementationCost": r.ImplementationCost, "sourceTool": r.SourceTool} {
		if err := validText(name, v, MaxShortFieldLength, false); err != nil {
			return err
		}
	}
	if len(r.Threats) > MaxThreats {
		return FieldErrorf("threats", "at most %d threats", MaxThreats)
	}
	for _, t := range r.Threats {
		if err := validText("threats", t, MaxShortFieldLength, true); err != nil {
			return err
		}
	}
	if r.MaxScore < 0 || r.MaxScore > MaxScoreLimit || r.MaxScore != r.MaxScore {
		return FieldErrorf("maxScore", "maxScore must be between 0 and %d", MaxScoreLimit)
	}
	if r.CurrentScore < 0 || r.CurrentScore > r.MaxScore || r.CurrentScore != r.CurrentScore {
		return FieldErrorf("currentScore", "currentScore must be between 0 and maxScore (%g)", r.MaxScore)
	}
	if err := r.State.Validate(); err != nil {
		return err
	}
	if len(r.Raw) > 0 && !json.Valid(r.Raw) {
		return FieldErrorf("raw", "raw must be a JSON document")
	}
	return nil
}

func validID(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return FieldErrorf(field, "%s is required", field)
	}
	if !utf8.ValidString(v) {
		return FieldErrorf(field, "%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return FieldErrorf(field, "%s must be at most %d characters (got %d)", field, max, n)
	}
	if strings.ContainsRune(v, 0) {
		return FieldErrorf(field, "%s must not contain NUL characters", field)
	}
	return nil
}

// StateChange records one change of an action's state.
type StateChange struct {
	ID               int64  `json:"id"`
	RecommendationID string `json:"recommendationId"`
	From             State  `json:"from"`
	To               State  `json:"to"`
	Note             string `json:"note"`
	// FromScore and ToScore are the current score before and after, when
	// the change edited it (an operator's edit of the score); nil otherwise.
	FromScore *float64  `json:"fromScore,omitempty"`
	ToScore   *float64  `json:"toScore,omitempty"`
	ChangedBy string    `json:"changedBy"`
	ChangedAt time.Time `json:"changedAt"`
}

// Sort orders for FindRecommendations.
const (
	SortImpact  = "impact"  // most points still to win first (the default)
	SortTitle   = "title"   // alphabetical
	SortUpdated = "updated" // most recently changed first
)

// Sorts lists every sort order, the default first.
var Sorts = []string{SortImpact, SortTitle, SortUpdated}

// RecommendationFilter selects and orders recommendations. Zero values do not
// filter.
type RecommendationFilter struct {
	Category Category
	Source   Source
	State    State
	// ToDo keeps only actions still on the to-do list.
	ToDo bool
	// Query matches title, description, service and id, case-insensitively.
	Query string
	Sort  string
	// Limit caps one page: 0 means DefaultRecommendationPage, at most
	// MaxRecommendationPage.
	Limit int
	// Cursor is the opaque "next" value of the previous page.
	Cursor string
	// Backward reads the page that ends with the row Cursor names, the
	// Previous page of the one Cursor led to; the cursor returned is then
	// the one to read further back with Backward, "" at the first page.
	Backward bool
}

// RecommendationUpdate holds the fields a PATCH may change; nil leaves a field
// as it is.
type RecommendationUpdate struct {
	Title              *string
	Description        *string
	Remediation        *string
	Category           *Category
	Service            *string
	Tier               *string
	UserImpact         *string
	ImplementationCost *string
	Threats            *[]string
	MaxScore           *float64
	CurrentScore       *float64
	State              *State
	// StateNote is kept in the history when State changes.
	StateNote string
}

// Apply copies the set fields onto r.
func (u *RecommendationUpdate) Apply(r *Recommendation) {
	if u.Title != nil {
		r.Title = *u.Title
	}
	if u.Description != nil {
		r.Description = *u.Description
	}
	if u.Remediation != nil {
		r.Remediation = *u.Remediation
	}
	if u.Category != nil {
		r.Category = *u.Category
	}
	if u.Service != nil {
		r.Service = *u.Service
	}
	if u.Tier != nil {
		r.Tier = *u.Tier
	}
	if u.UserImpact != nil {
		r.UserImpact = *u.UserImpact
	}
	if u.ImplementationCost != nil {
		r.ImplementationCost = *u.ImplementationCost
	}
	if u.Threats != nil {
		r.Threats = *u.Threats
	}
	if u.MaxScore != nil {
		r.MaxScore = *u.MaxScore
	}
	if u.CurrentScore != nil {
		r.CurrentScore = *u.CurrentScore
	}
	if u.State != nil {
		r.State = *u.State
	}
}

// RecommendationService keeps the improvement actions.
type RecommendationService interface {
	// FindRecommendationByID returns ENOTFOUND if there is no such action.
	FindRecommendationByID(ctx context.Context, id string) (*Recommendation, error)

	// FindRecommendations returns one page and the cursor of the next ("" at
	// the end). Returns EINVALID for a malformed cursor or filter.
	FindRecommendations(ctx context.Context, filter RecommendationFilter) (items []*Recommendation, next string, err error)

	// CreateRecommendation validates and stores r, filling in timestamps and
	// CreatedBy from the context's user. Returns EINVALID or ECONFLICT when
	// the id is taken.
	CreateRecommendation(ctx context.Context, r *Recommendation) error

	// UpdateRecommendation applies upd. Only user recommendations may change
	// anything but State and CurrentScore (EFORBIDDEN otherwise). A state
	// change is kept in the history. Returns ENOTFOUND or EINVALID.
	UpdateRecommendation(ctx context.Context, id string, upd RecommendationUpdate) (*Recommendation, error)

	// DeleteRecommendation removes a user recommendation and its history.
	// Returns ENOTFOUND, or EFORBIDDEN for a Microsoft recommendation.
	DeleteRecommendation(ctx context.Context, id string) error

	// FindStateChanges returns an action's history, newest first.
	FindStateChanges(ctx context.Context, id string) ([]*StateChange, error)

	// SeedRecommendations stores catalog or imported actions that are not
	// there yet, leaving existing ones (and their states) untouched. It
	// returns how many were added.
	SeedRecommendations(ctx context.Context, recs []*Recommendation) (int, error)
}
