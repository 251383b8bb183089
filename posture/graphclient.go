package posture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
)

// GraphConfig configures a GraphClient. TenantID, ClientID, ClientSecret
// and HTTPClient are required.
type GraphConfig struct {
	TenantID, ClientID, ClientSecret string
	// TokenURL is the identity platform's base; default
	// scorebridge.DefaultGraphTokenURL. The token endpoint is
	// <TokenURL>/<tenant>/oauth2/v2.0/token.
	TokenURL string
	// GraphURL is Graph's base; default scorebridge.DefaultGraphURL.
	GraphURL string
	// HTTPClient must be the guarded client (NewHTTPClient).
	HTTPClient *http.Client
	// AllowPrivate admits loopback and private URLs (a local stand-in).
	AllowPrivate bool
	// HistoryDays is the $top of /security/secureScores; default 90, what
	// Graph keeps.
	HistoryDays int
	// MaxAttempts bounds the tries of one request on 429 and 503; default 6.
	MaxAttempts int
	// MaxWait caps one wait, whatever Retry-After says; default 2 minutes.
	MaxWait time.Duration
	// MaxAnswerBytes caps one answer; default 32 MiB.
	MaxAnswerBytes int64
	// MaxPages caps how many profile pages are followed; default 1,000.
	MaxPages int
	// Sleep waits between attempts; default a timer that ends with ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// GraphClient reads a tenant's Secure Score from Microsoft Graph with the
// client credentials grant.
type GraphClient struct {
	cfg   GraphConfig
	http  *http.Client
	graph *url.URL
}

// NewHTTPClient is the client connectors use: the same outbound guard as
// the ServiceNow client (no proxy, non-public addresses refused when
// dialling, redirects kept to the same host).
func NewHTTPClient(allowPrivate bool) *http.Client {
	return servicenow.NewHTTPClient(servicenow.HTTPOptions{AllowPrivate: allowPrivate})
}

// ParseBaseURL checks a configured token or Graph URL with the ServiceNow
// client's URL guard (https, public address, no user information) and
// keeps its path.
func ParseBaseURL(field, raw, def string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return def, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", scorebridge.FieldErrorf(field, "%s must be a full https URL", field)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", scorebridge.FieldErrorf(field, "%s must not have a query, fragment or user name", field)
	}
	origin, err := servicenow.ParseInstanceURL(u.Scheme+"://"+u.Host, allowPrivate)
	if err != nil {
		return "", scorebridge.FieldErrorf(field, "%s: %s", field, strings.ReplaceAll(err.Error(), "ServiceNow instance", "server"))
	}
	return origin + strings.TrimRight(u.Path, "/"), nil
}

// NewGraphClient checks cfg and returns a client. Returns EINVALID for a
// bad setting.
func NewGraphClient(cfg GraphConfig) (*GraphClient, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.HTTPClient == nil {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "A Graph connector needs a tenant id, a client id and a client secret.")
	}
	var err error
	if cfg.TokenURL, err = ParseBaseURL("tokenUrl", cfg.TokenURL, scorebridge.DefaultGraphTokenURL, cfg.AllowPrivate); err != nil {
		return nil, err
	}
	if cfg.GraphURL, err = ParseBaseURL("graphUrl", cfg.GraphURL, scorebridge.DefaultGraphURL, cfg.AllowPrivate); err != nil {
		return nil, err
	}
	if cfg.HistoryDays <= 0 {
		cfg.HistoryDays = 90
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Minute
	}
	if cfg.MaxAnswerBytes <= 0 {
		cfg.MaxAnswerBytes = 32 << 20
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 1000
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	g, _ := url.Parse(cfg.GraphURL)
	cc := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     cfg.TokenURL + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
		Scopes:       []string{"https://graph.microsoft.com/.default"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	// The token source keeps the token and asks again when it expires; its
	// requests go through the same guarded client.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, cfg.HTTPClient)
	client := &http.Client{
		Transport:     &oauth2.Transport{Source: cc.TokenSource(tokenCtx), Base: cfg.HTTPClient.Transport},
		Timeout:       cfg.HTTPClient.Timeout,
		CheckRedirect: cfg.HTTPClient.CheckRedirect,
	}
	return &GraphClient{cfg: cfg, http: client, graph: g}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// GraphError is an error answer of Graph, with its code and message.
type GraphError struct {
	Status  int
	Code    string
	Message string
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("Microsoft Graph answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Read fetches every control profile (following @odata.nextLink to the
// end) and the daily scores. partial holds the Warning of each 206 answer.
func (c *GraphClient) Read(ctx context.Context) (g *GraphData, partial []string, err error) {
	g = &GraphData{HasProfiles: true, HasScores: true}
	var doc bytes.Buffer
	next := c.cfg.GraphURL + "/security/secureScoreControlProfiles"
	for pages := 0; next != ""; pages++ {
		if pages == c.cfg.MaxPages {
			return nil, nil, fmt.Errorf("microsoft Graph: stopped after %d pages of control profiles", pages)
		}
		page, warn, err := c.getPage(ctx, next, &doc)
		if err != nil {
			return nil, nil, err
		}
		if warn != "" {
			partial = append(partial, warn)
		}
		g.Profiles = append(g.Profiles, page.items...)
		if next = page.next; next != "" {
			if err := c.sameGraph(next); err != nil {
				return nil, nil, err
			}
		}
	}
	page, warn, err := c.getPage(ctx, c.cfg.GraphURL+"/security/secureScores?$top="+strconv.Itoa(c.cfg.HistoryDays), &doc)
	if err != nil {
		return nil, nil, err
	}
	if warn != "" {
		partial = append(partial, warn)
	}
	g.Scores = page.items
	g.doc = doc.Bytes()
	return g, partial, nil
}

// sameGraph keeps nextLink on the configured Graph host, so the token is
// never sent elsewhere.
func (c *GraphClient) sameGraph(link string) error {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != c.graph.Scheme || u.Host != c.graph.Host {
		return fmt.Errorf("microsoft Graph: @odata.nextLink %q leaves %s; refusing to follow", link, c.graph.Host)
	}
	return nil
}

type graphPage struct {
	items []item
	next  string
}

// getPage GETs one page and reads its "value" list. Offsets are kept
// relative to doc, which collects every page, so records name a line there.
func (c *GraphClient) getPage(ctx context.Context, link string, doc *bytes.Buffer) (*graphPage, string, error) {
	body, warn, err := c.do(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, "", err
	}
	base := int64(doc.Len())
	doc.Write(body)
	doc.WriteByte('\n')
	all := doc.Bytes()
	if err := checkJSON(all, body, base); err != nil {
		return nil, "", fmt.Errorf("microsoft Graph: the answer from %s is not JSON: %s", link, scorebridge.ErrorMessage(err))
	}
	_, f, err := objectFields(all, body, base)
	if err != nil {
		return nil, "", fmt.Errorf("microsoft Graph: the answer from %s is not a JSON object: %w", link, err)
	}
	p := &graphPage{}
	if v, ok := f["value"]; ok {
		if p.items, err = arrayItems(all, v.raw, v.offset); err != nil {
			return nil, "", fmt.Errorf("microsoft Graph: \"value\" from %s is not a list", link)
		}
	}
	if n, ok := f["@odata.nextLink"]; ok {
		_ = json.Unmarshal(n.raw, &p.next)
	}
	return p, warn, nil
}

// do sends one request, honouring Retry-After on 429 and 503 (with
// exponential backoff when it is absent), and returns the body, capped.
func (c *GraphClient) do(ctx context.Context, method, link string, payload []byte) ([]byte, string, error) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, link, body)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				return nil, "", fmt.Errorf("microsoft identity platform refused the client credentials (%d): %s", re.Response.StatusCode, oauthReason(re))
			}
			return nil, "", fmt.Errorf("microsoft Graph: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxAnswerBytes+1))
		resp.Body.Close()
		if err != nil {
			return nil, "", fmt.Errorf("microsoft Graph: read answer: %w", err)
		}
		if int64(len(data)) > c.cfg.MaxAnswerBytes {
			return nil, "", fmt.Errorf("microsoft Graph: the answer from %s is larger than %d bytes; refusing it", req.URL.Path, c.cfg.MaxAnswerBytes)
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			if attempt >= c.cfg.MaxAttempts {
				return nil, "", fmt.Errorf("microsoft Graph: still %d after %d attempts: %w", resp.StatusCode, attempt, graphError(resp.StatusCode, data))
			}
			wait := retryAfter(resp.Header.Get("Retry-After"), time.Now())
			if wait < 0 {
				wait = backoff
				backoff *= 2
			}
			if err := c.cfg.Sleep(ctx, min(wait, c.cfg.MaxWait)); err != nil {
				return nil, "", err
			}
			continue
		case resp.StatusCode == http.StatusPartialContent:
			w := resp.Header.Get("Warning")
			if w == "" {
				w = "no Warning header"
			}
			return data, w, nil
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return data, "", nil
		}
		return nil, "", graphError(resp.StatusCode, data)
	}
}

func oauthReason(re *oauth2.RetrieveError) string {
	if re.ErrorDescription != "" {
		return re.ErrorCode + ": " + clipText(re.ErrorDescription, 300)
	}
	if re.ErrorCode != "" {
		return re.ErrorCode
	}
	return clipText(string(re.Body), 300)
}

// retryAfter reads Retry-After as seconds or an HTTP date; -1 when absent.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

func graphError(status int, body []byte) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	if e.Error.Code == "" {
		e.Error.Code = http.StatusText(status)
		e.Error.Message = clipText(string(body), 300)
	}
	return &GraphError{Status: status, Code: e.Error.Code, Message: clipText(e.Error.Message, 500)}
}

// UpdateControlState writes a control's state back (PATCH, 204), which
// needs SecurityEvents.ReadWrite.All.
func (c *GraphClient) UpdateControlState(ctx context.Context, control, state, comment, by string) error {
	payload, _ := json.Marshal(map[string]any{
		"state": state, "comment": clipText(comment, 500), "assignedTo": by,
		"vendorInformation": map[string]string{"provider": "SecureScore", "vendor": "Microsoft"},
	})
	_, _, err := c.do(ctx, http.MethodPatch, c.cfg.GraphURL+"/security/secureScoreControlProfiles/"+url.PathEscape(control), payload)
	return err
}
