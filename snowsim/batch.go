package snowsim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Batch API (batch-api.md): POST /api/now/v1/batch runs several REST
// requests in one call, each through the same pipeline and ACLs as the
// caller, and answers with their statuses, headers and base64 bodies.

// batchItemMaxInput is glide.rest.batch.max.inputSize's default: 5 MB per item.
const batchItemMaxInput = 5 << 20

// batchTimeout is the REST Batch API request timeout transaction quota.
const batchTimeout = 30 * time.Second

type batchRequest struct {
	BatchRequestID string      `json:"batch_request_id"`
	RestRequests   []batchItem `json:"rest_requests"`
}

type batchItem struct {
	ID                     string        `json:"id"`
	Method                 string        `json:"method"`
	URL                    string        `json:"url"`
	Headers                []batchHeader `json:"headers"`
	Body                   string        `json:"body"`
	ExcludeResponseHeaders bool          `json:"exclude_response_headers"`
}

type batchHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type batchServiced struct {
	ID            string        `json:"id"`
	Body          string        `json:"body"`
	StatusCode    int           `json:"status_code"`
	StatusText    string        `json:"status_text"`
	Headers       []batchHeader `json:"headers"`
	ExecutionTime int64         `json:"execution_time"`
	ErrorMessage  string        `json:"error_message,omitempty"`
}

type batchResponse struct {
	BatchRequestID     string          `json:"batch_request_id"`
	ServicedRequests   []batchServiced `json:"serviced_requests"`
	UnservicedRequests []string        `json:"unserviced_requests"`
}

// decodeBatch reads and validates a batch request body.
func decodeBatch(raw []byte) (*batchRequest, *APIError) {
	var br batchRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&br); err != nil || dec.More() {
		return nil, errBadJSON("The payload is not valid JSON.")
	}
	if br.RestRequests == nil {
		return nil, &APIError{Status: http.StatusBadRequest, Message: "Exception while reading request", Detail: "rest_requests is required"}
	}
	return &br, nil
}

// itemProblem says why a batch item cannot run, "" when it can.
func (it *batchItem) problem() string {
	switch {
	case it.ID == "":
		return "id is required"
	case it.Method == "":
		return "method is required"
	case it.URL == "":
		return "url is required"
	case !strings.HasPrefix(it.URL, "/"):
		return "url must be a path relative to the instance"
	}
	return ""
}

type sessionKey struct{}

// withSession marks a request as already authenticated as s, so the batch's
// items run as its caller without credentials of their own.
func withSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

func sessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

func (in *Instance) batch(w http.ResponseWriter, r *http.Request, s *Session) {
	if r.Method != http.MethodPost {
		writeError(w, errMethod())
		return
	}
	if !acceptsJSON(r) {
		writeError(w, errNotAcceptable())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, &APIError{Status: http.StatusUnsupportedMediaType, Message: "Unsupported Media Type", Detail: "The Batch API only accepts application/json"})
		return
	}
	raw, aerr := in.readPayload(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	br, aerr := decodeBatch(raw)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	resp := batchResponse{BatchRequestID: br.BatchRequestID, ServicedRequests: []batchServiced{}, UnservicedRequests: []string{}}
	start := time.Now()
	for i, it := range br.RestRequests {
		body, decErr := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(it.Body), ""))
		if len(body) > batchItemMaxInput || time.Since(start) > batchTimeout {
			// A limit reached cancels the rest of the batch.
			for _, rest := range br.RestRequests[i:] {
				resp.UnservicedRequests = append(resp.UnservicedRequests, rest.ID)
			}
			break
		}
		if p := it.problem(); p != "" || decErr != nil {
			if p == "" {
				p = "body is not valid base64"
			}
			resp.ServicedRequests = append(resp.ServicedRequests, batchServiced{ID: it.ID, StatusCode: http.StatusBadRequest,
				StatusText: http.StatusText(http.StatusBadRequest), Headers: []batchHeader{}, ErrorMessage: p})
			continue
		}
		resp.ServicedRequests = append(resp.ServicedRequests, in.runBatchItem(r, s, it, body))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (in *Instance) runBatchItem(outer *http.Request, s *Session, it batchItem, body []byte) batchServiced {
	began := time.Now()
	u, err := url.Parse(it.URL)
	if err != nil {
		return batchServiced{ID: it.ID, StatusCode: http.StatusBadRequest, StatusText: http.StatusText(http.StatusBadRequest),
			Headers: []batchHeader{}, ErrorMessage: "url is not valid"}
	}
	req, err := http.NewRequestWithContext(withSession(outer.Context(), s), strings.ToUpper(it.Method), u.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return batchServiced{ID: it.ID, StatusCode: http.StatusBadRequest, StatusText: http.StatusText(http.StatusBadRequest),
			Headers: []batchHeader{}, ErrorMessage: "method is not valid"}
	}
	req.Host = outer.Host
	req.TLS = outer.TLS
	req.RemoteAddr = outer.RemoteAddr
	for _, h := range it.Headers {
		if !strings.EqualFold(h.Name, "Authorization") {
			req.Header.Add(h.Name, h.Value)
		}
	}
	if fp := outer.Header.Get("X-Forwarded-Proto"); fp != "" {
		req.Header.Set("X-Forwarded-Proto", fp)
	}
	rec := newRecorder()
	in.handler.ServeHTTP(rec, req)
	out := batchServiced{
		ID:            it.ID,
		Body:          base64.StdEncoding.EncodeToString(rec.body.Bytes()),
		StatusCode:    rec.status,
		StatusText:    http.StatusText(rec.status),
		Headers:       []batchHeader{},
		ExecutionTime: time.Since(began).Milliseconds(),
	}
	if !it.ExcludeResponseHeaders {
		rec.header.Set("Content-Length", strconv.Itoa(rec.body.Len()))
		for _, name := range slices.Sorted(maps.Keys(rec.header)) {
			for _, v := range rec.header[name] {
				out.Headers = append(out.Headers, batchHeader{Name: name, Value: v})
			}
		}
	}
	return out
}

// recorder captures one batch item's response.
type recorder struct {
	header http.Header
	body   bytes.Buffer
	status int
	wrote  bool
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
