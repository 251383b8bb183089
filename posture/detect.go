package posture

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// MaxFileSize caps an imported file: a tenant's 10,000 profiles and 90 days
// of scores take well under it.
const MaxFileSize = 128 << 20

// notRecognised is what a wrong file is told: what it is not, and why.
const notRecognised = "This is not a Microsoft Graph Secure Score export (an object with a \"value\" list of secureScoreControlProfiles or secureScores, or both lists), " +
	"not CISA ScubaGear results (an object with \"MetaData\" and \"Results\") and not Prowler OCSF JSON (a list of findings with \"status_code\" and \"finding_info\")"

// ParseFile detects a file's format and parses it. It returns EINVALID
// saying what is wrong and on which line, or what the file is not.
func ParseFile(data []byte) (*scorebridge.ImportBatch, error) {
	if len(data) > MaxFileSize {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "The file is larger than the %d MiB an import takes.", MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, byteOrderMark)
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "The file is empty.")
	}
	if trimmed[0] != '{' && trimmed[0] != '[' {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s: it is not JSON at all (line %d starts with %q).", notRecognised, lineAt(data, int64(len(data)-len(trimmed))), clipText(string(firstLine(trimmed)), 40))
	}
	if err := checkJSON(data, data, 0); err != nil {
		return nil, err
	}
	switch trimmed[0] {
	case '{':
		keys, fields, err := objectFields(data, data, 0)
		if err != nil {
			return nil, err
		}
		return parseObject(data, keys, fields)
	case '[':
		items, err := arrayItems(data, data, 0)
		if err != nil {
			return nil, err
		}
		return parseArray(data, items)
	}
	return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s: it is not JSON at all (line %d starts with %q).", notRecognised, lineAt(data, int64(len(data)-len(trimmed))), clipText(string(firstLine(trimmed)), 40))
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

func parseObject(doc []byte, keys []string, f map[string]item) (*scorebridge.ImportBatch, error) {
	if v, ok := f["value"]; ok {
		items, err := arrayItems(doc, v.raw, v.offset)
		if err != nil {
			return nil, scorebridge.Errorf(scorebridge.EINVALID, "Graph export: \"value\" at line %d must be a list.", lineAt(doc, v.offset))
		}
		g := &GraphData{doc: doc}
		ctx := contextOf(f)
		switch {
		case strings.Contains(ctx, "secureScoreControlProfiles") || ctx == "" && looksLike(items, "controlCategory", "actionType", "remediation"):
			g.Profiles, g.HasProfiles = items, true
			_, g.MorePages = f["@odata.nextLink"]
		case strings.Contains(ctx, "secureScores") || ctx == "" && looksLike(items, "controlScores", "currentScore"):
			g.Scores, g.HasScores = items, true
		default:
			return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s: it has a \"value\" list, but of neither control profiles nor secure scores (@odata.context %q).", notRecognised, ctx)
		}
		return BuildGraphBatch(g), nil
	}
	_, hasP := f["secureScoreControlProfiles"]
	_, hasS := f["secureScores"]
	if hasP || hasS {
		g := &GraphData{doc: doc}
		for _, k := range []string{"secureScoreControlProfiles", "secureScores"} {
			it, ok := f[k]
			if !ok {
				continue
			}
			items, err := graphList(doc, it)
			if err != nil {
				return nil, scorebridge.Errorf(scorebridge.EINVALID, "Graph export: %q at line %d must be a list or a page with a \"value\" list.", k, lineAt(doc, it.offset))
			}
			if k == "secureScores" {
				g.Scores, g.HasScores = items, true
			} else {
				g.Profiles, g.HasProfiles = items, true
			}
		}
		return BuildGraphBatch(g), nil
	}
	_, hasResults := f["Results"]
	_, hasMeta := f["MetaData"]
	_, hasSummary := f["Summary"]
	if hasResults && (hasMeta || hasSummary) {
		return parseScubaGear(doc, f)
	}
	shown := keys
	if len(shown) > 6 {
		shown = shown[:6]
	}
	return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s: it is an object with %s.", notRecognised, describeKeys(shown, len(keys)))
}

// graphList reads a list given either as an array or as a Graph page.
func graphList(doc []byte, it item) ([]item, error) {
	if items, err := arrayItems(doc, it.raw, it.offset); err == nil {
		return items, nil
	}
	_, f, err := objectFields(doc, it.raw, it.offset)
	if err != nil {
		return nil, err
	}
	v, ok := f["value"]
	if !ok {
		return nil, errNotArray
	}
	return arrayItems(doc, v.raw, v.offset)
}

func describeKeys(keys []string, total int) string {
	if total == 0 {
		return "no members"
	}
	q := make([]string, len(keys))
	for i, k := range keys {
		b, _ := json.Marshal(k)
		q[i] = string(b)
	}
	s := "the members " + strings.Join(q, ", ")
	if total > len(keys) {
		s += ", ..."
	}
	return s
}

func contextOf(f map[string]item) string {
	var s string
	if c, ok := f["@odata.context"]; ok {
		_ = json.Unmarshal(c.raw, &s)
	}
	return s
}

// looksLike reports whether the first object of a list has any of keys.
func looksLike(items []item, keys ...string) bool {
	for _, it := range items {
		m, err := decodeObject(it.raw)
		if err != nil {
			continue
		}
		for _, k := range keys {
			if _, ok := m[k]; ok {
				return true
			}
		}
		return false
	}
	return false
}

func parseArray(doc []byte, items []item) (*scorebridge.ImportBatch, error) {
	switch {
	case len(items) == 0:
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "The file is an empty list: there is nothing to import, and no way to tell which tool wrote it.")
	case looksLike(items, "status_code", "finding_info"):
		return parseProwler(doc, items)
	case looksLike(items, "controlCategory", "actionType"):
		return BuildGraphBatch(&GraphData{doc: doc, Profiles: items, HasProfiles: true}), nil
	case looksLike(items, "controlScores", "currentScore"):
		return BuildGraphBatch(&GraphData{doc: doc, Scores: items, HasScores: true}), nil
	}
	return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s: it is a list, but its first record (line %d) has none of those members.", notRecognised, lineAt(doc, items[0].offset))
}
