package posture

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// GraphData is what Graph holds for a tenant: control profiles and daily
// scores, each with its offset in the document it came from.
type GraphData struct {
	Profiles []item
	Scores   []item
	// HasProfiles and HasScores say which lists were present (either may
	// be present and empty).
	HasProfiles, HasScores bool
	// MorePages is set when a profiles page names a next page the data
	// does not include.
	MorePages bool
	doc       []byte
}

// controlScore is one entry of the latest day's controlScores, read in
// full: it may become an action of its own.
type controlScore struct {
	name, category, description, status string
	score, percent                      float64
	hasPercent                          bool
	raw                                 json.RawMessage
}

// day is one secureScore. Its controlScores stay where they are in the
// document (scores) until needed: only the latest day's are read in full,
// every other day's only for the points its history needs, one entry at a
// time, so 90 days of 10,000 controls cost no more memory than one.
type day struct {
	day          string
	created      time.Time
	tenant       string
	current, max float64
	scores       item
	controls     []controlScore
}

// BuildGraphBatch maps Graph data to an import: one action per control
// profile, and one per scored control that has no profile, with the score
// as the latest day reports it, so the center's score of the tenant equals
// Graph's own currentScore and maxScore (see the package README for the
// cases where the data cannot say and what is done then).
func BuildGraphBatch(g *GraphData) *scorebridge.ImportBatch {
	b := &scorebridge.ImportBatch{Kind: scorebridge.SourceKindGraph, Format: graphFormat(g)}
	b.Complete = g.HasProfiles && !g.MorePages
	if g.MorePages {
		b.Warnings = append(b.Warnings, "The profiles are one page of several (it names a next page): actions missing from it are not retired.")
	}
	tenants := map[string]bool{}

	// Days, newest first.
	var days []*day
	for i, it := range g.Scores {
		d, reason := parseDay(it)
		if reason != "" {
			b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: "secureScores " + ref(g.doc, i+1, it), Reason: reason, Raw: it.raw})
			continue
		}
		if d.tenant != "" {
			tenants[d.tenant] = true
		}
		days = append(days, d)
	}
	sort.SliceStable(days, func(i, j int) bool { return days[i].created.After(days[j].created) })
	var latest *day
	if len(days) > 0 {
		latest = days[0]
		latest.controls = readControls(latest.scores)
	}
	scored := map[string]controlScore{}
	if latest != nil {
		for _, cs := range latest.controls {
			if _, dup := scored[cs.name]; !dup {
				scored[cs.name] = cs
			}
		}
	}

	maxOf := map[string]float64{} // control name -> its maximum
	catOf := map[string]scorebridge.Category{}
	matched := map[string]bool{}
	for i, it := range g.Profiles {
		rec, reason := graphProfile(it.raw)
		if reason != "" {
			b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: "profile " + ref(g.doc, i+1, it), Reason: reason, Raw: it.raw})
			continue
		}
		if t := rec.tenant; t != "" {
			tenants[t] = true
		}
		if rec.stateUnknown != "" {
			b.Warnings = append(b.Warnings, fmt.Sprintf("%s: Graph state %q is not documented; the center's state is left as it is.", rec.ExternalID, rec.stateUnknown))
		}
		maxOf[rec.ExternalID] = rec.Rec.MaxScore
		catOf[rec.ExternalID] = rec.Rec.Category
		if latest != nil {
			rec.HasScore = true
			cs, ok := scored[rec.ExternalID]
			rec.Scored = ok
			if ok {
				matched[rec.ExternalID] = true
				rec.Rec.CurrentScore = cs.score
				if cs.score > rec.Rec.MaxScore {
					b.Warnings = append(b.Warnings, fmt.Sprintf("%s: its score %g is above the profile's maxScore %g.", rec.ExternalID, cs.score, rec.Rec.MaxScore))
					rec.Rec.CurrentScore = rec.Rec.MaxScore
				}
				if cs.status != "" {
					rec.Rec.Description = strings.TrimSpace(rec.Rec.Description + "\n\n" + plainText(cs.status))
				}
			}
		} else {
			rec.Scored = true
		}
		b.Records = append(b.Records, rec.ImportRecord)
	}

	// Scored controls without a profile are actions too, with what the
	// score record says. Their maximum is score / scoreInPercentage; when
	// that cannot be known (0%), what the day's maxScore leaves unexplained
	// is shared among them.
	var unknown []int
	if latest != nil {
		for _, cs := range latest.controls {
			if matched[cs.name] {
				continue
			}
			cat, ok := scorebridge.ParseCategory(cs.category)
			if !ok {
				b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: "controlScore " + cs.name, Reason: fmt.Sprintf("controlCategory %q is not one of Identity, Data, Device, Apps, Infrastructure", cs.category), Raw: cs.raw})
				continue
			}
			rec := scorebridge.ImportRecord{
				ExternalID: cs.name, HasScore: true, Scored: true,
				Rec: scorebridge.Recommendation{
					Title:        clipText(cs.name, scorebridge.MaxTitleLength),
					Description:  clipText(plainText(cs.description), scorebridge.MaxDescriptionLength),
					Remediation:  clipText(cs.status, scorebridge.MaxRemediationLength),
					Category:     cat,
					CurrentScore: cs.score,
					Raw:          cs.raw,
				},
			}
			if cs.hasPercent && cs.percent > 0 {
				rec.Rec.MaxScore = cs.score * 100 / cs.percent
			} else {
				unknown = append(unknown, len(b.Records))
			}
			maxOf[cs.name] = rec.Rec.MaxScore
			catOf[cs.name] = cat
			matched[cs.name] = true
			b.Records = append(b.Records, rec)
		}
	}
	if latest != nil {
		var known float64
		for _, r := range b.Records {
			if r.Scored {
				known += r.Rec.MaxScore
			}
		}
		left := latest.max - known
		if len(unknown) > 0 {
			share := math.Max(left, 0) / float64(len(unknown))
			for _, i := range unknown {
				b.Records[i].Rec.MaxScore = share
				if b.Records[i].Rec.CurrentScore > share {
					b.Records[i].Rec.MaxScore = b.Records[i].Rec.CurrentScore
				}
				maxOf[b.Records[i].ExternalID] = b.Records[i].Rec.MaxScore
			}
			b.Warnings = append(b.Warnings, fmt.Sprintf("%d scored controls have no profile and no percentage to derive their maximum from: the %g points the day's maxScore leaves unexplained are shared among them.", len(unknown), math.Max(left, 0)))
		} else if math.Abs(left) > 0.005 {
			b.Warnings = append(b.Warnings, fmt.Sprintf("The profiles' maxScore adds up to %.2f but Graph reports a maxScore of %.2f for %s.", known, latest.max, latest.day))
		}
	}

	for _, d := range days {
		b.Scores = append(b.Scores, daySummary(d, maxOf, catOf))
	}
	for t := range tenants {
		if b.TenantID == "" || t < b.TenantID {
			b.TenantID = t
		}
	}
	if len(tenants) > 1 {
		b.Warnings = append(b.Warnings, fmt.Sprintf("The data names %d tenants; it is imported as tenant %s.", len(tenants), b.TenantID))
	}
	return b
}

func graphFormat(g *GraphData) string {
	switch {
	case g.HasProfiles && g.HasScores:
		return "graph"
	case g.HasScores:
		return "graph-scores"
	}
	return "graph-profiles"
}

// daySummary is the day's score as Graph reports it: its own currentScore
// and maxScore, and per category the sum of its control scores against the
// maximum of those controls. Days other than the latest are read here, each
// entry decoded only into the four fields this needs.
func daySummary(d *day, maxOf map[string]float64, catOf map[string]scorebridge.Category) scorebridge.ReportedScore {
	var cur, mx [5]float64
	add := func(name, category string, score, percent float64, hasPercent bool) {
		cat, ok := catOf[name]
		if !ok {
			cat, _ = scorebridge.ParseCategory(category)
		}
		i := categoryIndex(cat)
		if i < 0 {
			return
		}
		cur[i] += score
		m := maxOf[name]
		if m == 0 && hasPercent && percent > 0 {
			m = score * 100 / percent
		}
		mx[i] += m
	}
	if d.controls != nil {
		for _, cs := range d.controls {
			add(cs.name, cs.category, cs.score, cs.percent, cs.hasPercent)
		}
	} else {
		_ = eachItem(d.scores.raw, d.scores.offset, func(it item) error {
			var e controlScorePoints
			if json.Unmarshal(it.raw, &e) != nil {
				return nil
			}
			if name := strings.TrimSpace(string(e.ControlName)); name != "" {
				add(name, string(e.ControlCategory), e.Score.value, e.ScoreInPercentage.value, e.ScoreInPercentage.ok)
			}
			return nil
		})
	}
	s := scorebridge.ReportedScore{Day: d.day, CurrentScore: d.current, MaxScore: d.max, Percent: pct(d.current, d.max)}
	for i, c := range scorebridge.Categories {
		s.Categories = append(s.Categories, scorebridge.CategoryScore{Category: c, CurrentScore: round2(cur[i]), MaxScore: round2(mx[i]), Percent: pct(cur[i], mx[i])})
	}
	return s
}

func categoryIndex(c scorebridge.Category) int {
	for i, v := range scorebridge.Categories {
		if v == c {
			return i
		}
	}
	return -1
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func pct(cur, max float64) float64 {
	if max <= 0 {
		return 0
	}
	return round2(cur / max * 100)
}

// parseDay reads a secureScore's own fields, leaving its controlScores
// in the document.
func parseDay(it item) (*day, string) {
	_, f, err := objectFields(nil, it.raw, it.offset)
	if err != nil {
		return nil, "a secureScore must be a JSON object"
	}
	d := &day{tenant: fieldText(f, "azureTenantId"), scores: f["controlScores"]}
	created := fieldText(f, "createdDateTime")
	t, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return nil, fmt.Sprintf("createdDateTime %q is not a date and time", created)
	}
	d.created, d.day = t.UTC(), t.UTC().Format("2006-01-02")
	var ok bool
	if d.current, ok = fieldNumber(f, "currentScore"); !ok {
		return nil, "currentScore is missing or not a number"
	}
	if d.max, ok = fieldNumber(f, "maxScore"); !ok {
		return nil, "maxScore is missing or not a number"
	}
	return d, ""
}

// readControls reads the latest day's controlScores in full, each with
// its raw bytes (a slice of the document, not a copy).
func readControls(list item) []controlScore {
	out := []controlScore{}
	_ = eachItem(list.raw, list.offset, func(it item) error {
		var e controlScoreFields
		if json.Unmarshal(it.raw, &e) != nil {
			return nil
		}
		name := strings.TrimSpace(string(e.ControlName))
		if name == "" {
			return nil
		}
		out = append(out, controlScore{
			name: name, category: string(e.ControlCategory), description: string(e.Description), status: string(e.ImplementationStatus),
			score: e.Score.value, percent: e.ScoreInPercentage.value, hasPercent: e.ScoreInPercentage.ok, raw: json.RawMessage(it.raw),
		})
		return nil
	})
	return out
}

type graphRecord struct {
	scorebridge.ImportRecord
	tenant       string
	stateUnknown string
}

func graphProfile(raw json.RawMessage) (*graphRecord, string) {
	m, err := decodeObject(raw)
	if err != nil {
		return nil, "a control profile must be a JSON object"
	}
	id := strings.TrimSpace(text(m["id"]))
	if id == "" {
		return nil, "the profile has no id (the control name)"
	}
	cat, ok := scorebridge.ParseCategory(text(m["controlCategory"]))
	if !ok {
		return nil, fmt.Sprintf("controlCategory %q is not one of Identity, Data, Device, Apps, Infrastructure", text(m["controlCategory"]))
	}
	maxScore, ok := number(m["maxScore"])
	if !ok || maxScore < 0 || maxScore > scorebridge.MaxScoreLimit {
		return nil, fmt.Sprintf("maxScore %v is not a number between 0 and %d", m["maxScore"], scorebridge.MaxScoreLimit)
	}
	title := text(m["title"])
	if strings.TrimSpace(title) == "" {
		title = id
	}
	r := &graphRecord{tenant: text(m["azureTenantId"])}
	r.ExternalID = id
	r.HasProfile = true
	r.Rec = scorebridge.Recommendation{
		Title:              clipText(plainText(title), scorebridge.MaxTitleLength),
		Description:        clipText(plainText(text(m["remediationImpact"])), scorebridge.MaxDescriptionLength),
		Remediation:        clipText(text(m["remediation"]), scorebridge.MaxRemediationLength),
		Category:           cat,
		Service:            clipText(text(m["service"]), scorebridge.MaxShortFieldLength),
		Tier:               clipText(text(m["tier"]), scorebridge.MaxShortFieldLength),
		UserImpact:         clipText(titleCase(text(m["userImpact"])), scorebridge.MaxShortFieldLength),
		ImplementationCost: clipText(titleCase(text(m["implementationCost"])), scorebridge.MaxShortFieldLength),
		Threats:            threats(m["threats"]),
		MaxScore:           maxScore,
		Raw:                raw,
	}
	// The newest state update decides; without one the control is Default.
	status, latest := "Default", ""
	updates, _ := m["controlStateUpdates"].([]any)
	for _, u := range updates {
		e, _ := u.(map[string]any)
		if st := strings.TrimSpace(text(e["state"])); st != "" && text(e["updatedDateTime"]) >= latest {
			status, latest = st, text(e["updatedDateTime"])
		}
	}
	r.SourceStatus = status
	if st, ok := scorebridge.GraphState(status); ok {
		r.SourceState = st
	} else {
		r.stateUnknown = status
	}
	return r, ""
}

// threats keeps a profile's threats once each, in their first spelling, with
// the case Graph mixes normalised.
func threats(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	seen := map[string]bool{}
	for _, t := range list {
		s := clipText(titleCase(text(t)), scorebridge.MaxShortFieldLength)
		if s == "" || seen[strings.ToLower(s)] || len(out) == scorebridge.MaxThreats {
			continue
		}
		seen[strings.ToLower(s)] = true
		out = append(out, s)
	}
	return out
}
