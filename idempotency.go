package scorebridge

import (
	"context"
	"time"
)

// IdempotencyKeyTTL is how long the first answer to a request sent with an
// Idempotency-Key is kept and answered again to a retry with the same key.
const IdempotencyKeyTTL = 24 * time.Hour

// IdempotencyClaimTTL is how long a key stays claimed by a request that
// has not answered yet. A claim older than this is taken to be a request
// whose process died, and the key may be used again.
const IdempotencyClaimTTL = 2 * time.Minute

// MaxIdempotencyKeyLength is the longest Idempotency-Key accepted.
const MaxIdempotencyKeyLength = 255

// IdempotentResponse is the answer kept for an idempotency key.
type IdempotentResponse struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// IdempotencyRecord is what a key already holds.
type IdempotencyRecord struct {
	// Fingerprint identifies the request the key was first used with
	// (method, path and body).
	Fingerprint string
	// Response is the first request's answer; nil while it is running.
	Response *IdempotentResponse
}

// IdempotencyService keeps idempotency keys, per principal (the acting
// user or token), so a creating request retried after its answer was lost
// is answered with the first answer instead of creating twice.
type IdempotencyService interface {
	// ClaimIdempotencyKey claims key for principal and a request's
	// fingerprint. It returns nil when the key was free (new, expired, or
	// claimed by a request that never answered): the caller runs the
	// request, then completes or releases the key. Otherwise it returns
	// what the key holds and claims nothing.
	ClaimIdempotencyKey(ctx context.Context, principal, key, fingerprint string) (*IdempotencyRecord, error)

	// CompleteIdempotencyKey keeps the answer of the request that claimed
	// key.
	CompleteIdempotencyKey(ctx context.Context, principal, key string, resp *IdempotentResponse) error

	// ReleaseIdempotencyKey frees a claimed key whose request failed in a
	// way a retry may not (a server error), so the retry runs afresh.
	ReleaseIdempotencyKey(ctx context.Context, principal, key string) error
}
