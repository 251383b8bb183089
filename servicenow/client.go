// Package servicenow is scorebridge's client for a ServiceNow instance's REST
// APIs: the Table API for records, the Aggregate API for counts, and the
// error shapes they answer with. Authentication is the HTTP client's job
// (an OAuth transport in production, Basic auth against the simulator in
// some tests), so this package only speaks the API.
package servicenow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxResponseBytes caps what the client reads from one answer, so a broken or
// hostile instance cannot exhaust memory.
const MaxResponseBytes = 32 << 20

// Client calls one instance. It is safe for concurrent use.
type Client struct {
	// BaseURL is the instance, e.g. https://acme.service-now.com.
	BaseURL string
	// HTTP sends the requests and authenticates them.
	HTTP *http.Client
	// UserAgent is sent with every request. Default "scorebridge".
	UserAgent string
}

// NewClient returns a client for the instance at baseURL.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc, UserAgent: "scorebridge"}
}

// Record is one row as the Table API returns it with display values off and
// reference links excluded: every value a string.
type Record map[string]string

// SysID returns the record's sys_id.
func (r Record) SysID() string { return r["sys_id"] }

// UnmarshalJSON accepts plain strings and, for callers that asked for
// display values or links, objects whose "value" (or "display_value") is
// kept, so one type serves every answer shape.
func (r *Record) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Record, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		var obj struct {
			Value        *string `json:"value"`
			DisplayValue *string `json:"display_value"`
		}
		if err := json.Unmarshal(v, &obj); err == nil {
			switch {
			case obj.Value != nil:
				out[k] = *obj.Value
			case obj.DisplayValue != nil:
				out[k] = *obj.DisplayValue
			}
			continue
		}
		out[k] = strings.Trim(string(v), `"`)
	}
	*r = out
	return nil
}

// ListOptions are the Table API's list parameters.
type ListOptions struct {
	Query  string   // sysparm_query, an encoded query
	Fields []string // sysparm_fields; nil for every field
	Limit  int      // sysparm_limit; 0 for the instance default
	Offset int      // sysparm_offset
	// NoCount skips the X-Total-Count computation on the instance, which
	// matters on large tables.
	NoCount bool
}

// List returns the records of table that match opts, and the total the
// instance reported (-1 when NoCount is set or the header is absent).
func (c *Client) List(ctx context.Context, table string, opts ListOptions) ([]Record, int, error) {
	q := opts.values()
	var out struct {
		Result []Record `json:"result"`
	}
	resp, err := c.do(ctx, http.MethodGet, tablePath(table, ""), q, nil, &out)
	if err != nil {
		return nil, 0, err
	}
	return out.Result, totalCount(resp.Header), nil
}

// values are the list query parameters of opts, reference links excluded.
func (opts ListOptions) values() url.Values {
	q := url.Values{}
	q.Set("sysparm_exclude_reference_link", "true")
	if opts.Query != "" {
		q.Set("sysparm_query", opts.Query)
	}
	if len(opts.Fields) > 0 {
		q.Set("sysparm_fields", strings.Join(opts.Fields, ","))
	}
	if opts.Limit > 0 {
		q.Set("sysparm_limit", strconv.Itoa(opts.Limit))
	}
	if opts.Offset > 0 {
		q.Set("sysparm_offset", strconv.Itoa(opts.Offset))
	}
	if opts.NoCount {
		q.Set("sysparm_no_count", "true")
	}
	return q
}

// totalCount is the X-Total-Count an answer reports, -1 when absent.
func totalCount(h http.Header) int {
	if n, err := strconv.Atoi(h.Get("X-Total-Count")); err == nil {
		return n
	}
	return -1
}

// Get returns one record. A missing record is an *Error with StatusCode 404.
func (c *Client) Get(ctx context.Context, table, sysID string, fields ...string) (Record, error) {
	q := url.Values{}
	q.Set("sysparm_exclude_reference_link", "true")
	if len(fields) > 0 {
		q.Set("sysparm_fields", strings.Join(fields, ","))
	}
	var out struct {
		Result Record `json:"result"`
	}
	if _, err := c.do(ctx, http.MethodGet, tablePath(table, sysID), q, nil, &out); err != nil {
		return nil, err
	}
	return out.Result, nil
}

// Create inserts a record and returns it as the instance stored it.
func (c *Client) Create(ctx context.Context, table string, fields map[string]string) (Record, error) {
	q := url.Values{}
	q.Set("sysparm_exclude_reference_link", "true")
	var out struct {
		Result Record `json:"result"`
	}
	if _, err := c.do(ctx, http.MethodPost, tablePath(table, ""), q, fields, &out); err != nil {
		return nil, err
	}
	return out.Result, nil
}

// Update changes the given fields of a record (PATCH) and returns the whole
// record.
func (c *Client) Update(ctx context.Context, table, sysID string, fields map[string]string) (Record, error) {
	q := url.Values{}
	q.Set("sysparm_exclude_reference_link", "true")
	var out struct {
		Result Record `json:"result"`
	}
	if _, err := c.do(ctx, http.MethodPatch, tablePath(table, sysID), q, fields, &out); err != nil {
		return nil, err
	}
	return out.Result, nil
}

// Delete removes a record.
func (c *Client) Delete(ctx context.Context, table, sysID string) error {
	_, err := c.do(ctx, http.MethodDelete, tablePath(table, sysID), nil, nil, nil)
	return err
}

func tablePath(table, sysID string) string {
	p := "/api/now/table/" + url.PathEscape(table)
	if sysID != "" {
		p += "/" + url.PathEscape(sysID)
	}
	return p
}

// do sends one request and decodes a successful JSON answer into out. Any
// other answer becomes an *Error carrying the instance's own message.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any, out any) (*http.Response, error) {
	u := c.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("servicenow: encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("servicenow: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, &Error{Method: method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, &Error{Method: method, Path: path, StatusCode: resp.StatusCode, Err: err}
	}
	if len(data) > MaxResponseBytes {
		return nil, &Error{Method: method, Path: path, StatusCode: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d bytes", MaxResponseBytes)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(method, path, resp, data)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &Error{Method: method, Path: path, StatusCode: resp.StatusCode, Message: "answer is not the JSON the Table API sends", Err: err}
		}
	}
	return resp, nil
}
