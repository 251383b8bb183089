package sqlstore

import (
	"sync"
	"time"

	"github.com/scorebridge/scorebridge"
)

// keptTokenTTL bounds how long a token read is trusted without reading it
// again, whatever the change count says.
const keptTokenTTL = 5 * time.Second

// keptTokensMax bounds the tokens kept; only tokens that authenticated are
// kept, so this is the number of tokens in use at once.
const keptTokensMax = 1024

// keptTokens keeps the API tokens read for authenticating, under the
// database's change count (DB.Version): every request of a busy script or
// scraper is one hash and a map look-up instead of a query, and a
// revocation, committed like any change, is seen on the next request, on
// every replica.
type keptTokens struct {
	mu     sync.Mutex
	byHash map[string]keptToken
}

type keptToken struct {
	version uint64
	at      time.Time
	token   scorebridge.APIToken
}

// get returns a copy of the token kept for hash under version, if it is
// still fresh at now.
func (k *keptTokens) get(hash string, version uint64, now time.Time) (*scorebridge.APIToken, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.byHash[hash]
	if !ok || e.version != version || now.Sub(e.at) >= keptTokenTTL || now.Before(e.at) {
		return nil, false
	}
	t := e.token
	return &t, true
}

// put keeps a copy of t, read under version at now.
func (k *keptTokens) put(hash string, version uint64, now time.Time, t *scorebridge.APIToken) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byHash == nil || len(k.byHash) >= keptTokensMax {
		k.byHash = map[string]keptToken{}
	}
	k.byHash[hash] = keptToken{version: version, at: now, token: *t}
}
