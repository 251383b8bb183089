package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/scorebridge/scorebridge"
)

//go:embed actions.json
var actionsJSON []byte

// Vocabularies the catalog keeps to, so its actions sort and filter
// consistently with what Graph Secure Score reports.
var (
	// tiers are the deployment tiers, from the baseline outwards.
	tiers = []string{"Core", "Defense in Depth", "Advanced"}
	// levels are the values of userImpact and implementationCost.
	levels = []string{"Low", "Moderate", "High"}
)

// Catalog scores are whole points so the built-in score reads cleanly.
const (
	minEntryScore = 1
	maxEntryScore = 10
)

// entry is one action as written in actions.json. Source and SourceTool are
// not in the file: every catalog action is a Microsoft-style recommendation
// produced by the catalog.
type entry struct {
	ID                 string               `json:"id"`
	Title              string               `json:"title"`
	Description        string               `json:"description"`
	Remediation        string               `json:"remediation"`
	Category           scorebridge.Category `json:"category"`
	Service            string               `json:"service"`
	Tier               string               `json:"tier"`
	UserImpact         string               `json:"userImpact"`
	ImplementationCost string               `json:"implementationCost"`
	Threats            []string             `json:"threats"`
	MaxScore           float64              `json:"maxScore"`
	CurrentScore       float64              `json:"currentScore"`
	State              scorebridge.State    `json:"state"`
}

// The embedded file never changes while the process runs, so it is parsed
// once; callers get copies.
var parsed = sync.OnceValues(func() ([]*scorebridge.Recommendation, error) {
	return parse(actionsJSON)
})

// Recommendations returns the built-in improvement actions, validated, in
// file order. Each call returns fresh copies the caller may modify. An error
// means the embedded catalog is broken; it names the offending entry.
func Recommendations() ([]*scorebridge.Recommendation, error) {
	recs, err := parsed()
	if err != nil {
		return nil, err
	}
	out := make([]*scorebridge.Recommendation, len(recs))
	for i, r := range recs {
		out[i] = clone(r)
	}
	return out, nil
}

func clone(r *scorebridge.Recommendation) *scorebridge.Recommendation {
	c := *r
	c.Threats = slices.Clone(r.Threats)
	c.Raw = bytes.Clone(r.Raw)
	return &c
}

// parse reads a JSON array of entries. Each element is first taken as raw
// bytes, so Raw keeps the entry exactly as written, then decoded strictly so
// a misspelt field is an error rather than a silently empty value.
func parse(data []byte) ([]*scorebridge.Recommendation, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("catalog: reading actions: %w", err)
	} else if tok != json.Delim('[') {
		return nil, fmt.Errorf("catalog: actions must be a JSON array, found %v", tok)
	}

	var recs []*scorebridge.Recommendation
	seen := make(map[string]int)
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("catalog: entry %d: %w", i, err)
		}
		r, err := parseEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("catalog: entry %d%s: %w", i, entryName(raw), err)
		}
		if first, ok := seen[r.ID]; ok {
			return nil, fmt.Errorf("catalog: entry %d (%q): %w", i, r.ID,
				scorebridge.FieldErrorf("id", "id %q is already used by entry %d", r.ID, first))
		}
		seen[r.ID] = i
		recs = append(recs, r)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("catalog: reading the end of the actions array: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("catalog: unexpected data after the actions array")
	}
	if len(recs) == 0 {
		return nil, errors.New("catalog: the actions array is empty")
	}
	return recs, nil
}

// entryName labels an entry in an error by its id when one can be read.
func entryName(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || v.ID == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", v.ID)
}

func parseEntry(raw json.RawMessage) (*scorebridge.Recommendation, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e entry
	if err := dec.Decode(&e); err != nil {
		return nil, err
	}
	r := &scorebridge.Recommendation{
		ID:                 e.ID,
		Title:              e.Title,
		Description:        e.Description,
		Remediation:        e.Remediation,
		Category:           e.Category,
		Source:             scorebridge.SourceMicrosoft,
		SourceTool:         scorebridge.ToolCatalog,
		Service:            e.Service,
		Tier:               e.Tier,
		UserImpact:         e.UserImpact,
		ImplementationCost: e.ImplementationCost,
		Threats:            e.Threats,
		MaxScore:           e.MaxScore,
		CurrentScore:       e.CurrentScore,
		State:              e.State,
		Raw:                raw,
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := checkCatalogRules(r); err != nil {
		return nil, err
	}
	return r, nil
}

// checkCatalogRules holds the catalog to stricter rules than any
// recommendation: canonical names (the score groups on exact category
// names), the shared vocabularies, and whole-point scores.
func checkCatalogRules(r *scorebridge.Recommendation) error {
	if !slices.Contains(scorebridge.Categories, r.Category) {
		return scorebridge.FieldErrorf("category", "category %q must be spelt exactly as one of Identity, Data, Devices, Apps, Infrastructure", r.Category)
	}
	if r.Description == "" {
		return scorebridge.FieldErrorf("description", "description is required")
	}
	if r.Remediation == "" {
		return scorebridge.FieldErrorf("remediation", "remediation is required")
	}
	if r.Service == "" {
		return scorebridge.FieldErrorf("service", "service is required")
	}
	if !slices.Contains(tiers, r.Tier) {
		return scorebridge.FieldErrorf("tier", "tier %q must be one of Core, Defense in Depth, Advanced", r.Tier)
	}
	if !slices.Contains(levels, r.UserImpact) {
		return scorebridge.FieldErrorf("userImpact", "userImpact %q must be one of Low, Moderate, High", r.UserImpact)
	}
	if !slices.Contains(levels, r.ImplementationCost) {
		return scorebridge.FieldErrorf("implementationCost", "implementationCost %q must be one of Low, Moderate, High", r.ImplementationCost)
	}
	if len(r.Threats) == 0 {
		return scorebridge.FieldErrorf("threats", "at least one threat is required")
	}
	if r.MaxScore != math.Trunc(r.MaxScore) || r.MaxScore < minEntryScore || r.MaxScore > maxEntryScore {
		return scorebridge.FieldErrorf("maxScore", "maxScore must be a whole number from %d to %d, got %g", minEntryScore, maxEntryScore, r.MaxScore)
	}
	if r.CurrentScore != math.Trunc(r.CurrentScore) {
		return scorebridge.FieldErrorf("currentScore", "currentScore must be a whole number, got %g", r.CurrentScore)
	}
	return nil
}
