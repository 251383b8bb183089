package scorebridge

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// SourceKind is the tool a posture source speaks for.
type SourceKind string

const (
	SourceKindGraph     SourceKind = ToolGraph     // Microsoft Graph Secure Score (connector or export)
	SourceKindScubaGear SourceKind = ToolScubaGear // CISA ScubaGear results
	SourceKindProwler   SourceKind = ToolProwler   // Prowler OCSF findings
)

// Valid reports whether k is a known kind.
func (k SourceKind) Valid() bool {
	return k == SourceKindGraph || k == SourceKindScubaGear || k == SourceKindProwler
}

// Label is the tool's name as people know it.
func (k SourceKind) Label() string {
	switch k {
	case SourceKindGraph:
		return "Microsoft Secure Score"
	case SourceKindScubaGear:
		return "CISA ScubaGear"
	case SourceKindProwler:
		return "Prowler"
	}
	return string(k)
}

// Default base URLs of the Microsoft identity platform and Graph.
const (
	DefaultGraphTokenURL = "https://login.microsoftonline.com"
	DefaultGraphURL      = "https://graph.microsoft.com/v1.0"
)

// PostureSource is where imported posture data comes from: one tenant of
// one tool. A Graph source may also be a connector the center reads itself.
type PostureSource struct {
	ID       string     `json:"id"`
	Kind     SourceKind `json:"kind"`
	Name     string     `json:"name"`
	TenantID string     `json:"tenantId"`

	// Connector settings (Graph only). Connector is false for a source fed
	// only by files.
	Connector bool   `json:"connector"`
	ClientID  string `json:"clientId,omitempty"`
	// HasClientSecret says a secret is stored; the secret itself never
	// leaves the store but for the connector.
	HasClientSecret bool   `json:"hasClientSecret"`
	TokenURL        string `json:"tokenUrl,omitempty"`
	GraphURL        string `json:"graphUrl,omitempty"`
	// WriteBack sends state changes made in the center to Graph with
	// PATCH. It needs SecurityEvents.ReadWrite.All; off by default.
	WriteBack bool `json:"writeBack"`

	LastImportAt *time.Time `json:"lastImportAt,omitempty"`
	LastError    string     `json:"lastError,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
}

// Validate checks a source before it is stored. Returns EINVALID naming the
// field.
func (s *PostureSource) Validate() error {
	if !s.Kind.Valid() {
		return FieldErrorf("kind", "kind must be graph, scubagear or prowler")
	}
	if err := validText("name", s.Name, MaxTitleLength, true); err != nil {
		return err
	}
	if err := validText("tenantId", s.TenantID, MaxShortFieldLength, false); err != nil {
		return err
	}
	if s.Connector {
		if s.Kind != SourceKindGraph {
			return FieldErrorf("kind", "only a Microsoft Graph source can be a connector")
		}
		if strings.TrimSpace(s.TenantID) == "" {
			return FieldErrorf("tenantId", "tenantId is required for a Graph connector")
		}
		if err := validText("clientId", s.ClientID, MaxShortFieldLength, true); err != nil {
			return err
		}
	}
	return nil
}

// ImportRecord is one record of a source mapped to the recommendation
// model, plus what the source itself said.
type ImportRecord struct {
	// ExternalID is the record's id at the source (a control name, a
	// ScubaGear control id, a Prowler check id).
	ExternalID string
	// Rec holds the normalised fields; ID, Source, SourceTool and State
	// are filled in by the import.
	Rec Recommendation
	// HasProfile is false for a Graph control score without its profile:
	// the fields come from the score record only, and a stored profile's
	// fields are kept.
	HasProfile bool
	// HasScore is false for a profile the data carries no score for: a
	// stored score is kept.
	HasScore bool
	// Scored says whether the record counts toward the score (a profile
	// that the day's score does not list, a ScubaGear N/A, do not).
	Scored bool
	// SourceState is the center state the source's own state maps to, ""
	// when the source has none (ScubaGear, Prowler).
	SourceState State
	// SourceStatus is the source's own verdict or state, verbatim
	// ("Default", "Pass", "FAIL").
	SourceStatus string
}

// UnmappedRecord is a record an import kept but could not map, with why.
type UnmappedRecord struct {
	// Ref says where it was: "record 12 (line 340)".
	Ref    string          `json:"ref"`
	Reason string          `json:"reason"`
	Raw    json.RawMessage `json:"raw,omitempty"`
}

// ReportedScore is the score as the source reports it for one day.
type ReportedScore struct {
	Day          string          `json:"day"` // YYYY-MM-DD, UTC
	CurrentScore float64         `json:"currentScore"`
	MaxScore     float64         `json:"maxScore"`
	Percent      float64         `json:"percent"`
	Categories   []CategoryScore `json:"categories"`
}

// PassRate counts the verdicts of a tool without points of its own.
type PassRate struct {
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Warning int `json:"warning"`
	// Other counts N/A, omitted, manual, muted and error verdicts, which
	// do not count toward the rate.
	Other int `json:"other"`
	// Percent is Pass / (Pass + Fail + Warning) * 100.
	Percent float64 `json:"percent"`
}

// ComputePassRate fills in Percent.
func (p *PassRate) ComputePassRate() {
	p.Percent = percent(float64(p.Pass), float64(p.Pass+p.Fail+p.Warning))
}

// ImportBatch is one parsed import: everything a file or a connector run
// yielded, ready to apply in one transaction.
type ImportBatch struct {
	Kind       SourceKind
	TenantID   string
	TenantName string
	// Format names what was read: "graph-profiles", "graph-scores",
	// "graph", "scubagear", "prowler".
	Format string
	// Complete says the records are the source's whole list, so stored
	// actions missing from it are retired. A single page of a paged
	// export, or score history alone, is not.
	Complete bool
	Records  []ImportRecord
	Unmapped []UnmappedRecord
	// Scores is the source's daily history, newest first (Graph).
	Scores   []ReportedScore
	PassRate *PassRate
	Warnings []string
	// Partial is set when the source said part of its answer is missing
	// (Graph's 206).
	Partial bool

	Origin   string // "connector", "upload", "api", "cli"
	FileName string
	SHA256   string
	Bytes    int64
}

// Import is what an import did, as the source's import list shows it.
type Import struct {
	ID        int64     `json:"id"`
	SourceID  string    `json:"sourceId"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Origin    string    `json:"origin"`
	Format    string    `json:"format"`
	FileName  string    `json:"fileName,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Bytes     int64     `json:"bytes"`
	Added     int       `json:"added"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	Retired   int       `json:"retired"`
	Regressed int       `json:"regressed"`
	Unmapped  int       `json:"unmapped"`
	Partial   bool      `json:"partial"`
	Warnings  []string  `json:"warnings"`
	// Reported is the score the source reports for its latest day (Graph),
	// Score what the center computes for the source's actions after the
	// import: the two are equal when the data is whole.
	Reported *ReportedScore `json:"reported,omitempty"`
	Score    Score          `json:"score"`
	PassRate *PassRate      `json:"passRate,omitempty"`
}

// PostureService imports posture data and keeps the sources.
type PostureService interface {
	// CreateSource validates and stores a source (with its client secret
	// sealed). Returns EINVALID or ECONFLICT for a second source of the same
	// kind and tenant.
	CreateSource(ctx context.Context, s *PostureSource, clientSecret string) error
	// FindSources lists every source.
	FindSources(ctx context.Context) ([]*PostureSource, error)
	// FindSourceByID returns ENOTFOUND if there is no such source.
	FindSourceByID(ctx context.Context, id string) (*PostureSource, error)
	// FindImports returns a source's imports, newest first.
	FindImports(ctx context.Context, sourceID string, limit int) ([]*Import, error)
	// FindUnmapped returns the records an import kept without mapping.
	FindUnmapped(ctx context.Context, importID int64) ([]*UnmappedRecord, error)
	// ImportFile detects a file's format, parses it and applies it to the
	// source of its kind and tenant (created when new). Returns EINVALID
	// saying what is wrong and where; nothing is stored then.
	ImportFile(ctx context.Context, name string, data []byte, origin string) (*Import, error)
	// ImportSource reads a connector source now. Returns ENOTFOUND, or
	// EINVALID for a source that is not a connector.
	ImportSource(ctx context.Context, id string) (*Import, error)
	// SourceHistory returns a source's reported daily scores, oldest first.
	SourceHistory(ctx context.Context, sourceID string, days int) ([]*ReportedScore, error)
	// RemoveCatalog deletes the built-in sample actions that have no
	// tickets and returns how many went.
	RemoveCatalog(ctx context.Context) (int, error)
}

// ImportedID is the recommendation id of a source's record: unique across
// sources and tenants, and stable across imports.
func ImportedID(sourceID, externalID string) string {
	var b strings.Builder
	for _, c := range externalID {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	id := sourceID + "." + b.String()
	if len(id) > MaxIDLength {
		id = id[:MaxIDLength]
	}
	return id
}

// GraphState maps a Graph control state to the center's state; ok is false
// for a state Graph does not document. Ignored is Secure Score's "risk
// accepted", ThirdParty its "resolved through third party", and Reviewed
// (a review action someone has reviewed) counts as completed.
func GraphState(s string) (State, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return StateToAddress, true
	case "ignored":
		return StateRiskAccepted, true
	case "thirdparty":
		return StateThirdParty, true
	case "reviewed":
		return StateCompleted, true
	}
	return "", false
}

// GraphStateOf is the inverse of GraphState, for writing a center state
// back; ok is false for Planned, which Graph has no state for.
func GraphStateOf(s State) (string, bool) {
	switch s {
	case StateToAddress:
		return "Default", true
	case StateRiskAccepted:
		return "Ignored", true
	case StateThirdParty:
		return "ThirdParty", true
	case StateCompleted:
		return "Reviewed", true
	}
	return "", false
}

// Weighing of tools without points of their own. A check's maximum comes
// from how much it matters; its achieved points from the verdict.
//
//   - ScubaGear: a "Shall" control is worth 10 points, a "Should" 5
//     (a "/3rd Party" suffix weighs the same; a "/Not-Implemented" control is
//     not scored). Pass earns all, Fail and Warning none (ScubaGear warns
//     for an unmet "Should"). N/A, Omitted, Error and Incorrect Result are
//     not scored.
//   - Prowler: a check is worth 10 (critical), 8 (high), 5 (medium), 3
//     (low) or 1 (informational); it earns the share of its resources that
//     PASS (PartialScore). MANUAL and MUTED findings are not scored.
const (
	WeightShall  = 10
	WeightShould = 5
)

// ScubaGearWeight returns a ScubaGear control's maximum and whether it is
// scored at all, from its Criticality.
func ScubaGearWeight(criticality string) (float64, bool) {
	c := strings.ToLower(strings.TrimSpace(criticality))
	if strings.Contains(c, "not-implemented") {
		return 0, false
	}
	switch {
	case strings.HasPrefix(c, "shall"):
		return WeightShall, true
	case strings.HasPrefix(c, "should"):
		return WeightShould, true
	}
	return 0, false
}

// ScubaGearVerdict says what a ScubaGear Result earns: full, none, or not
// scored, and how the pass rate counts it.
func ScubaGearVerdict(result string) (earns float64, scored bool, rate string) {
	switch strings.ToLower(strings.TrimSpace(result)) {
	case "pass":
		return 1, true, "pass"
	case "fail":
		return 0, true, "fail"
	case "warning":
		return 0, true, "warning"
	}
	return 0, false, "other"
}

// ProwlerWeight returns a Prowler check's maximum from its severity.
func ProwlerWeight(severity string) float64 {
	switch strings.ToLower(strings.TrimSpace(severity)) {
	case "critical":
		return 10
	case "high":
		return 8
	case "medium":
		return 5
	case "low":
		return 3
	}
	return 1
}

// Achieved reports whether an action's data says its control is fully in
// place.
func Achieved(maxScore, currentScore float64) bool {
	return maxScore > 0 && currentScore >= maxScore
}

// Regressed reports whether a control that was achieved no longer is.
func Regressed(oldMax, oldCurrent, newMax, newCurrent float64) bool {
	return Achieved(oldMax, oldCurrent) && !Achieved(newMax, newCurrent)
}
