package posture

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// prowlerCategory maps a Prowler service (resources[].group.name) to a
// Secure Score category; anything else is Infrastructure.
var prowlerCategory = map[string]scorebridge.Category{
	"iam": scorebridge.CategoryIdentity, "entra": scorebridge.CategoryIdentity, "admincenter": scorebridge.CategoryIdentity,
	"sso": scorebridge.CategoryIdentity, "organizations": scorebridge.CategoryIdentity,
	"s3": scorebridge.CategoryData, "kms": scorebridge.CategoryData, "storage": scorebridge.CategoryData,
	"purview": scorebridge.CategoryData, "sharepoint": scorebridge.CategoryData, "exchange": scorebridge.CategoryData,
	"rds": scorebridge.CategoryData, "dynamodb": scorebridge.CategoryData, "macie": scorebridge.CategoryData,
	"teams": scorebridge.CategoryApps, "app": scorebridge.CategoryApps, "lambda": scorebridge.CategoryApps,
	"ec2": scorebridge.CategoryDevices, "defender": scorebridge.CategoryDevices, "intune": scorebridge.CategoryDevices,
}

// prowlerCheck gathers the findings of one check (metadata.event_code):
// one action per check, earning the share of its resources that pass.
type prowlerCheck struct {
	id                  string
	title, desc, remedy string
	severity, service   string
	pass, fail, other   int
	raws                [][]byte
	first               int
}

// parseProwler maps Prowler OCSF findings, weighed as
// scorebridge.ProwlerWeight documents.
func parseProwler(doc []byte, findings []item) (*scorebridge.ImportBatch, error) {
	b := &scorebridge.ImportBatch{Kind: scorebridge.SourceKindProwler, Format: "prowler", Complete: true, PassRate: &scorebridge.PassRate{}}
	checks := map[string]*prowlerCheck{}
	accounts := map[string]bool{}
	for i, f := range findings {
		m, err := decodeObject(f.raw)
		if err != nil {
			b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: ref(doc, i+1, f), Reason: "a finding must be a JSON object", Raw: f.raw})
			continue
		}
		meta, _ := m["metadata"].(map[string]any)
		info, _ := m["finding_info"].(map[string]any)
		id := strings.TrimSpace(text(meta["event_code"]))
		if id == "" {
			b.Unmapped = append(b.Unmapped, scorebridge.UnmappedRecord{Ref: ref(doc, i+1, f), Reason: "the finding has no metadata.event_code (the check id)", Raw: f.raw})
			continue
		}
		status := strings.ToUpper(strings.TrimSpace(text(m["status_code"])))
		if cloud, ok := m["cloud"].(map[string]any); ok {
			if acct, ok := cloud["account"].(map[string]any); ok {
				if uid := strings.TrimSpace(text(acct["uid"])); uid != "" {
					accounts[uid] = true
				}
			}
		}
		c := checks[id]
		if c == nil {
			c = &prowlerCheck{id: id, first: i}
			checks[id] = c
		}
		if c.title == "" {
			c.title = text(info["title"])
			c.desc = text(info["desc"])
			if rem, ok := m["remediation"].(map[string]any); ok {
				c.remedy = text(rem["desc"])
				if refs, ok := rem["references"].([]any); ok {
					for _, r := range refs {
						if s := text(r); strings.HasPrefix(s, "https://") {
							c.remedy += fmt.Sprintf(`<p><a href="%s">%s</a></p>`, htmlEscape(s), htmlEscape(s))
						}
					}
				}
			}
			c.severity = text(m["severity"])
			if res, ok := m["resources"].([]any); ok && len(res) > 0 {
				if r0, ok := res[0].(map[string]any); ok {
					if g, ok := r0["group"].(map[string]any); ok {
						c.service = text(g["name"])
					}
				}
			}
		}
		switch status {
		case "PASS":
			c.pass++
			b.PassRate.Pass++
		case "FAIL":
			c.fail++
			b.PassRate.Fail++
		default:
			c.other++
			b.PassRate.Other++
		}
		c.raws = append(c.raws, f.raw)
	}
	list := make([]*prowlerCheck, 0, len(checks))
	for _, c := range checks {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].first < list[j].first })
	for _, c := range list {
		weight := scorebridge.ProwlerWeight(c.severity)
		cat, ok := prowlerCategory[strings.ToLower(c.service)]
		if !ok {
			cat = scorebridge.CategoryInfrastructure
		}
		// A JSON list of the findings, each byte-for-byte as it was.
		raw := append([]byte{'['}, bytes.Join(c.raws, []byte{','})...)
		raw = append(raw, ']')
		status := fmt.Sprintf("%d PASS, %d FAIL", c.pass, c.fail)
		if c.other > 0 {
			status += fmt.Sprintf(", %d other", c.other)
		}
		title := c.title
		if strings.TrimSpace(title) == "" {
			title = c.id
		}
		b.Records = append(b.Records, scorebridge.ImportRecord{
			ExternalID: c.id, HasProfile: true, HasScore: true, Scored: c.pass+c.fail > 0, SourceStatus: status,
			Rec: scorebridge.Recommendation{
				Title:        clipText(plainText(title), scorebridge.MaxTitleLength),
				Description:  clipText(plainText(c.desc), scorebridge.MaxDescriptionLength),
				Remediation:  clipText(c.remedy, scorebridge.MaxRemediationLength),
				Category:     cat,
				Service:      clipText(c.service, scorebridge.MaxShortFieldLength),
				Tier:         clipText(titleCase(c.severity), scorebridge.MaxShortFieldLength),
				Threats:      []string{},
				MaxScore:     weight,
				CurrentScore: scorebridge.PartialScore(weight, c.pass, c.pass+c.fail),
				Raw:          raw,
			},
		})
	}
	b.PassRate.ComputePassRate()
	for a := range accounts {
		if b.TenantID == "" || a < b.TenantID {
			b.TenantID = a
		}
	}
	if len(accounts) > 1 {
		b.Warnings = append(b.Warnings, fmt.Sprintf("The findings name %d accounts; they are imported together as %s.", len(accounts), b.TenantID))
	}
	return b, nil
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
