package servicenow

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Value is one field as the Table API answers with
// sysparm_display_value=all: the stored value and what a person reads
// (a reference's name, a journal's entries, a date in the user's zone).
type Value struct {
	Value   string
	Display string
}

// UnmarshalJSON accepts the {"value","display_value"} object and a plain
// string (both halves the same).
func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v.Value, v.Display = s, s
		return nil
	}
	var obj struct {
		Value        any `json:"value"`
		DisplayValue any `json:"display_value"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	v.Value, v.Display = plain(obj.Value), plain(obj.DisplayValue)
	return nil
}

func plain(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, _ := json.Marshal(x)
	return strings.Trim(string(b), `"`)
}

// DisplayRecord is one row with values and display values.
type DisplayRecord map[string]Value

// ListWithDisplay is List with sysparm_display_value=all, for callers that
// show reference names and journal entries without a second call. It
// returns the total the instance reported (-1 when absent) and the
// instance's time from its Date header (zero when absent).
func (c *Client) ListWithDisplay(ctx context.Context, table string, opts ListOptions) ([]DisplayRecord, int, time.Time, error) {
	q := opts.values()
	q.Set("sysparm_display_value", "all")
	var out struct {
		Result []DisplayRecord `json:"result"`
	}
	resp, err := c.do(ctx, http.MethodGet, tablePath(table, ""), q, nil, &out)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	at, _ := http.ParseTime(resp.Header.Get("Date"))
	return out.Result, totalCount(resp.Header), at.UTC(), nil
}
