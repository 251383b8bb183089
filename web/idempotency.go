package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/scorebridge/scorebridge"
)

// idempotencyHeader names the header a client sends to make a creating
// request safe to retry; forms carry the same key in idempotencyField.
const (
	idempotencyHeader = "Idempotency-Key"
	idempotencyField  = "idempotency_key"
	// replayedHeader marks an answer given again for a retried key.
	replayedHeader = "Idempotent-Replayed"
)

// codeIdempotencyKeyReused answers a key sent again with another request.
const codeIdempotencyKeyReused = "idempotency_key_reused"

// maxIdempotentBody bounds the request body read to fingerprint it and the
// answer kept; creating requests are far smaller.
const maxIdempotentBody = 1 << 20

// idempotentWait is how long a retry waits for the first request with its
// key to answer (a double click), before it is told to try again.
const idempotentWait = 10 * time.Second

// idempotent makes a creating route safe to retry: a request sent with an
// Idempotency-Key header (or a form's idempotency_key field) runs once per
// acting user and key; a retry with the same body gets the first answer
// again for scorebridge.IdempotencyKeyTTL, marked Idempotent-Replayed, and
// the same key with another body is refused (422). A request without a key
// runs as before. Wrap every route that creates something with it.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := scorebridge.UserFromContext(r.Context())
		if s.idempotency == nil || u == nil {
			next(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxIdempotentBody+1))
		if err != nil {
			s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The request body could not be read."))
			return
		}
		if len(body) > maxIdempotentBody {
			s.errorStatus(w, r, http.StatusRequestEntityTooLarge, codeRequestTooLarge, "The request body is too large.", "")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		key := idempotencyKeyOf(r, body)
		if key == "" {
			next(w, r)
			return
		}
		if err := validIdempotencyKey(key); err != nil {
			s.error(w, r, err)
			return
		}
		fp := requestFingerprint(r, u.ID, key, body)
		rec, err := s.claimIdempotencyKey(r.Context(), u.ID, key, fp)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if rec != nil {
			s.replayIdempotent(w, r, rec, fp)
			return
		}
		rw := &capturingWriter{ResponseWriter: w}
		completed := false
		defer func() {
			if !completed {
				// A panic or a failed write: let a retry run afresh.
				s.releaseIdempotencyKey(r, u.ID, key)
			}
		}()
		next(rw, r)
		status := rw.status
		if status == 0 {
			status = http.StatusOK
		}
		if status >= 500 || rw.overflow {
			return // not kept: a retry may succeed where this failed
		}
		resp := &scorebridge.IdempotentResponse{Status: status, ContentType: rw.Header().Get("Content-Type"),
			Location: rw.Header().Get("Location"), Body: rw.body.Bytes()}
		if err := s.idempotency.CompleteIdempotencyKey(context.WithoutCancel(r.Context()), u.ID, key, resp); err != nil {
			s.logger.ErrorContext(r.Context(), "idempotency key not completed", "error", err.Error())
			return
		}
		completed = true
	}
}

// claimIdempotencyKey claims the key, or returns its record once the
// request holding it has answered; a request that does not answer within
// idempotentWait makes this one a 409 to retry later.
func (s *Server) claimIdempotencyKey(ctx context.Context, principal, key, fp string) (*scorebridge.IdempotencyRecord, error) {
	deadline := time.Now().Add(idempotentWait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, err := s.idempotency.ClaimIdempotencyKey(ctx, principal, key, fp)
		if err != nil || rec == nil || rec.Response != nil || rec.Fingerprint != fp {
			return rec, err
		}
		// The first request with this key is still running (a double
		// click, a retry sent too early): wait for its answer.
		if time.Now().After(deadline) {
			return nil, scorebridge.Errorf(scorebridge.ECONFLICT, "A request with this Idempotency-Key is still being processed; retry in a moment.")
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *Server) releaseIdempotencyKey(r *http.Request, principal, key string) {
	if err := s.idempotency.ReleaseIdempotencyKey(context.WithoutCancel(r.Context()), principal, key); err != nil {
		s.logger.ErrorContext(r.Context(), "idempotency key not released", "error", err.Error())
	}
}

// replayIdempotent answers a retried key: the first answer again, or a 422
// when the key came with another request.
func (s *Server) replayIdempotent(w http.ResponseWriter, r *http.Request, rec *scorebridge.IdempotencyRecord, fp string) {
	if rec.Fingerprint != fp {
		s.errorStatus(w, r, http.StatusUnprocessableEntity, codeIdempotencyKeyReused,
			"This Idempotency-Key was already used with a different request; use a new key for a new request.", idempotencyHeader)
		return
	}
	resp := rec.Response
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	if resp.Location != "" {
		w.Header().Set("Location", resp.Location)
	}
	w.Header().Set(replayedHeader, "true")
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

// idempotencyKeyOf returns the request's key: the header, or for a form
// post the idempotency_key field.
func idempotencyKeyOf(r *http.Request, body []byte) string {
	if k := r.Header.Get(idempotencyHeader); k != "" {
		return k
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(body)); err == nil {
			return v.Get(idempotencyField)
		}
	}
	return ""
}

func validIdempotencyKey(key string) error {
	if len(key) > scorebridge.MaxIdempotencyKeyLength {
		return scorebridge.FieldErrorf(idempotencyHeader, "The Idempotency-Key must be at most %d characters.", scorebridge.MaxIdempotencyKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return scorebridge.FieldErrorf(idempotencyHeader, "The Idempotency-Key must be printable ASCII without spaces (a UUID, for example).")
		}
	}
	return nil
}

// requestFingerprint identifies a request for its key: method, path and
// body. The principal and key are hashed in too, so the digest of a body
// that holds a secret (a connection's client secret) cannot be matched
// against precomputed digests.
func requestFingerprint(r *http.Request, principal, key string, body []byte) string {
	h := sha256.New()
	io.WriteString(h, principal+"\x00"+key+"\x00"+r.Method+" "+r.URL.Path+"\x00")
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// newIdempotencyKey makes the key a form carries, so submitting it twice
// (a double click, a reloaded page) creates once.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// capturingWriter passes a response through and keeps its status and body
// for the idempotency key.
type capturingWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (w *capturingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *capturingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len()+len(p) > maxIdempotentBody {
		w.overflow = true
	} else {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *capturingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
