package posture

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// scubaCategory maps a ScubaGear product to the Secure Score category its
// controls belong with.
var scubaCategory = map[string]scorebridge.Category{
	"aad":           scorebridge.CategoryIdentity,
	"entra":         scorebridge.CategoryIdentity,
	"defender":      scorebridge.CategoryData,
	"exo":           scorebridge.CategoryData,
	"sharepoint":    scorebridge.CategoryData,
	"teams":         scorebridge.CategoryApps,
	"powerplatform": scorebridge.CategoryApps,
	"powerbi":       scorebridge.CategoryApps,
}

// parseScubaGear maps ScubaGear results: one action per control, weighed as
// scorebridge.ScubaGearWeight and ScubaGearVerdict document.
func parseScubaGear(doc []byte, fields map[string]item) (*scorebridge.ImportBatch, error) {
	b := &scorebridge.ImportBatch{Kind: scorebridge.SourceKindScubaGear, Format: "scubagear", Complete: true, PassRate: &scorebridge.PassRate{}}
	if md, ok := fields["MetaData"]; ok {
		if m, err := decodeObject(md.raw); err == nil {
			b.TenantID = strings.TrimSpace(text(m["TenantId"]))
			b.TenantName = strings.TrimSpace(text(m["DisplayName"]))
			if b.TenantID == "" {
				b.TenantID = strings.TrimSpace(text(m["DomainName"]))
			}
		}
	}
	res := fields["Results"]
	_, products, err := objectFields(doc, res.raw, res.offset)
	if err != nil {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "ScubaGear results: \"Results\" at line %d must be an object of products.", lineAt(doc, res.offset))
	}
	n := 0
	for _, product := range sortedKeys(products) {
		pit := products[product]
		groups, err := arrayItems(doc, pit.raw, pit.offset)
		if err != nil {
			return nil, scorebridge.Errorf(scorebridge.EINVALID, "ScubaGear results: product %q at line %d must be a list of groups.", product, lineAt(doc, pit.offset))
		}
		cat, ok := scubaCategory[strings.ToLower(product)]
		if !ok {
			cat = scorebridge.CategoryApps
		}
		for _, g := range groups {
			_, gf, err := objectFields(doc, g.raw, g.offset)
			if err != nil {
				b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: fmt.Sprintf("%s group (line %d)", product, lineAt(doc, g.offset)), Reason: "a group must be a JSON object", Raw: g.raw})
				continue
			}
			group := ""
			if gn, ok := gf["GroupName"]; ok {
				_ = json.Unmarshal(gn.raw, &group)
			}
			ctl, ok := gf["Controls"]
			if !ok {
				continue
			}
			controls, err := arrayItems(doc, ctl.raw, ctl.offset)
			if err != nil {
				b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: fmt.Sprintf("%s group %q (line %d)", product, group, lineAt(doc, ctl.offset)), Reason: "Controls must be a list", Raw: ctl.raw})
				continue
			}
			for _, c := range controls {
				n++
				rec, reason := scubaControl(c, product, group, cat, b.PassRate)
				if reason != "" {
					b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: ref(doc, n, c), Reason: reason, Raw: c.raw})
					continue
				}
				b.Records = append(b.Records, *rec)
			}
		}
	}
	b.PassRate.ComputePassRate()
	return b, nil
}

func scubaControl(c item, product, group string, cat scorebridge.Category, rate *scorebridge.PassRate) (*scorebridge.ImportRecord, string) {
	m, err := decodeObject(c.raw)
	if err != nil {
		return nil, "a control must be a JSON object"
	}
	id := strings.TrimSpace(text(m["Control ID"]))
	if id == "" {
		return nil, `the control has no "Control ID"`
	}
	result := strings.TrimSpace(text(m["Result"]))
	weight, weighed := scorebridge.ScubaGearWeight(text(m["Criticality"]))
	earns, scored, verdict := scorebridge.ScubaGearVerdict(result)
	switch verdict {
	case "pass":
		rate.Pass++
	case "fail":
		rate.Fail++
	case "warning":
		rate.Warning++
	default:
		rate.Other++
	}
	req := text(m["Requirement"])
	title := id + ": " + plainText(req)
	details := plainText(text(m["Details"]))
	rec := &scorebridge.ImportRecord{
		ExternalID: id, HasProfile: true, HasScore: true, Scored: scored && weighed,
		SourceStatus: result,
		Rec: scorebridge.Recommendation{
			Title:       clipText(title, scorebridge.MaxTitleLength),
			Description: clipText(details, scorebridge.MaxDescriptionLength),
			Remediation: clipText(req, scorebridge.MaxRemediationLength),
			Category:    cat,
			Service:     clipText(product, scorebridge.MaxShortFieldLength),
			Tier:        clipText(text(m["Criticality"]), scorebridge.MaxShortFieldLength),
			Threats:     []string{},
			MaxScore:    weight,
			Raw:         c.raw,
		},
	}
	if group != "" {
		rec.Rec.Description = clipText(strings.TrimSpace(group+". "+details), scorebridge.MaxDescriptionLength)
	}
	rec.Rec.CurrentScore = weight * earns
	return rec, ""
}
