package scorebridge

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// SettingKind is how a setting's value is written and checked.
type SettingKind string

const (
	SettingOneOf   SettingKind = "choice"  // one of Choices
	SettingBool    SettingKind = "bool"    // "true" or "false"
	SettingMinutes SettingKind = "minutes" // a whole number of minutes, at least Min
)

// SettingChoice is one value a choice setting may take.
type SettingChoice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// SettingDef describes one setting: its key (the API's name for it), the
// section of the Settings page it shows in, its kind and default. Adding a
// setting is adding a SettingDef to SettingDefs and, for code that reads
// it, a typed getter on Settings.
type SettingDef struct {
	Key     string          `json:"key"`
	Section string          `json:"section"`
	Label   string          `json:"label"`
	Help    string          `json:"help"`
	Kind    SettingKind     `json:"kind"`
	Default string          `json:"default"`
	Choices []SettingChoice `json:"choices,omitempty"`
	// Min is the least value of a minutes setting.
	Min int `json:"min,omitempty"`
}

// Setting keys.
const (
	SettingDriftPolicy        = "driftPolicy"
	SettingResolveOnCompleted = "resolveOnCompleted"
	SettingSyncInterval       = "syncIntervalMinutes"
)

// SettingsSectionTracking is the Settings page section of ticket tracking.
const SettingsSectionTracking = "Ticket tracking"

// SettingDefs lists every setting the center keeps in its settings store,
// in the order the Settings page shows them.
var SettingDefs = []SettingDef{
	{
		Key: SettingDriftPolicy, Section: SettingsSectionTracking, Label: "When a ticket finishes but the control is not achieved",
		Help: "Drift: the ticket was resolved or closed in ServiceNow while the action's control is still not in place. The center can leave it to a person (the Drift page), reopen the ticket with a work note saying why, or share a new ticket linked to the finished one. The same applies when a control regresses after its ticket closed.",
		Kind: SettingOneOf, Default: string(DriftNone),
		Choices: []SettingChoice{
			{string(DriftNone), "Show the drift; a person decides"},
			{string(DriftReopen), "Reopen the ticket"},
			{string(DriftNew), "Open a new linked ticket"},
		},
	},
	{
		Key: SettingResolveOnCompleted, Section: SettingsSectionTracking, Label: "Resolve the ticket when its action is completed",
		Help: "When an action becomes Completed while its ticket is still open, add a work note and resolve the ticket, so ServiceNow learns the control is fixed.",
		Kind: SettingBool, Default: "false",
	},
	{
		Key: SettingSyncInterval, Section: SettingsSectionTracking, Label: "Sync interval (minutes)",
		Help: "How often the center reads the tickets changed in ServiceNow since its last sync. Push, when set up, brings changes at once; the sync repairs what it missed.",
		Kind: SettingMinutes, Default: "5", Min: 1,
	},
}

// maxSettingMinutes caps a minutes setting at a week: more is a typo.
const maxSettingMinutes = 7 * 24 * 60

// SettingDefByKey returns the definition of key.
func SettingDefByKey(key string) (SettingDef, bool) {
	for _, d := range SettingDefs {
		if d.Key == key {
			return d, true
		}
	}
	return SettingDef{}, false
}

// Normalize checks v against the setting and returns it in its stored
// form. The error is EINVALID with the setting's key as its field and its
// name in the message.
func (d SettingDef) Normalize(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch d.Kind {
	case SettingOneOf:
		var vals []string
		for _, c := range d.Choices {
			if c.Value == v {
				return v, nil
			}
			vals = append(vals, strconv.Quote(c.Value))
		}
		return "", FieldErrorf(d.Key, "%s must be one of %s (got %q)", d.Key, strings.Join(vals, ", "), v)
	case SettingBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return "", FieldErrorf(d.Key, "%s must be true or false (got %q)", d.Key, v)
		}
		return strconv.FormatBool(b), nil
	case SettingMinutes:
		n, err := strconv.Atoi(v)
		if err != nil {
			return "", FieldErrorf(d.Key, "%s must be a whole number of minutes (got %q)", d.Key, v)
		}
		if n < d.Min || n > maxSettingMinutes {
			return "", FieldErrorf(d.Key, "%s must be between %d and %d minutes (got %d)", d.Key, d.Min, maxSettingMinutes, n)
		}
		return strconv.Itoa(n), nil
	}
	return "", FieldErrorf(d.Key, "%s has an unknown kind %q", d.Key, d.Kind)
}

// Settings are the values of every SettingDef: stored ones, defaults for
// the rest. The zero value reads as all defaults.
type Settings struct {
	Values map[string]string `json:"-"`
	// UpdatedAt and UpdatedBy say who last changed any setting (zero and
	// "" while all are defaults).
	UpdatedAt time.Time `json:"-"`
	UpdatedBy string    `json:"-"`
}

// Get returns the value of key, its default when not stored.
func (s Settings) Get(key string) string {
	if v, ok := s.Values[key]; ok {
		return v
	}
	d, _ := SettingDefByKey(key)
	return d.Default
}

// DriftPolicy is what the center does on drift.
func (s Settings) DriftPolicy() DriftPolicy {
	if p := DriftPolicy(s.Get(SettingDriftPolicy)); p.Valid() {
		return p
	}
	return DriftNone
}

// ResolveOnCompleted reports whether a Completed action resolves its open
// ticket.
func (s Settings) ResolveOnCompleted() bool {
	b, _ := strconv.ParseBool(s.Get(SettingResolveOnCompleted))
	return b
}

// SyncInterval is how often tickets are synced.
func (s Settings) SyncInterval() time.Duration {
	n, err := strconv.Atoi(s.Get(SettingSyncInterval))
	if err != nil || n < 1 {
		n = 5
	}
	return time.Duration(n) * time.Minute
}

// NormalizeSettings checks every value of a change against its setting,
// and refuses keys that name no setting. It returns the stored forms; the
// first bad value's error names its setting.
func NormalizeSettings(change map[string]string) (map[string]string, error) {
	if len(change) == 0 {
		return nil, Errorf(EINVALID, "Name at least one setting to change.")
	}
	out := make(map[string]string, len(change))
	// In SettingDefs order, so the first error is the same every time.
	for _, d := range SettingDefs {
		v, ok := change[d.Key]
		if !ok {
			continue
		}
		n, err := d.Normalize(v)
		if err != nil {
			return nil, err
		}
		out[d.Key] = n
	}
	for k := range change {
		if _, ok := out[k]; !ok {
			if _, known := SettingDefByKey(k); !known {
				return nil, FieldErrorf(k, "%q is not a setting", k)
			}
		}
	}
	return out, nil
}

// SettingsService keeps the center's settings.
type SettingsService interface {
	// Settings returns every setting's value.
	Settings(ctx context.Context) (Settings, error)
	// UpdateSettings checks and stores the changed values (keys of
	// SettingDefs) with their audit event, all or nothing. Returns
	// EINVALID naming the first bad setting.
	UpdateSettings(ctx context.Context, change map[string]string) (Settings, error)
}
