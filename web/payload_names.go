package web

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// impactNames are ServiceNow's names of impact and urgency values.
var impactNames = map[string]string{"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}

// payloadNames reads an exchange's JSON body (a request's fields, or an
// answer's result) and names the coded values a person would otherwise
// have to look up: impact, urgency, priority and state. The body itself is
// shown as sent; this is the line beside it. "" when there is nothing to
// name.
func payloadNames(t *scorebridge.Ticket, body string) string {
	var doc map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &doc) != nil {
		return ""
	}
	if res, ok := doc["result"]; ok {
		doc = nil
		if json.Unmarshal(res, &doc) != nil {
			return ""
		}
	}
	value := func(key string) string {
		var s string
		if raw, ok := doc[key]; ok && json.Unmarshal(raw, &s) == nil {
			return s
		}
		var n json.Number
		if raw, ok := doc[key]; ok && json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
		return ""
	}
	var parts []string
	for _, key := range []string{"impact", "urgency"} {
		if v := value(key); v != "" {
			parts = append(parts, key+" "+orRaw(impactNames[v], v))
		}
	}
	if v := value("priority"); v != "" {
		n, err := strconv.Atoi(v)
		name := v
		if err == nil {
			name = priorityName(n)
		}
		parts = append(parts, "priority "+name)
	}
	if v := value("state"); v != "" && t != nil {
		name := scorebridge.BuiltinStateName(t.Type, v)
		if v == t.State && t.StateName != "" {
			name = t.StateName
		}
		parts = append(parts, "state "+orRaw(name, scorebridge.UnknownStateName(v)))
	}
	return strings.Join(parts, " · ")
}

func orRaw(name, raw string) string {
	if name != "" {
		return name
	}
	return raw
}
