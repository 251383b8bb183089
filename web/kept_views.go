package web

import (
	"container/list"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scorebridge/scorebridge"
)

// The busiest pages (home, tickets, the actions API) are kept once built:
// the rendered content, or the JSON body, under the database's change
// count (Config.DataVersion). A request that finds its view kept under the
// current count is answered from it, with only the frame (the user, the
// navigation, the database banner) rendered afresh; any committed change,
// on this replica or another, moves the count and the view is built again.
const (
	// keptViewTTL bounds what a view may hold that moves with the clock
	// rather than with a change: tickets going overdue, a token's expiry.
	keptViewTTL = 5 * time.Second
	// keptViewsMax bounds the views kept: pages differ by their query
	// (filters, cursors), and the least recently used goes first.
	keptViewsMax = 256
	// keptViewMaxBytes leaves out views too big to be worth the memory.
	keptViewMaxBytes = 1 << 20
)

// keptViews is a bounded, least-recently-used set of views. It is safe for
// concurrent use.
type keptViews struct {
	version func() (uint64, bool)
	now     func() time.Time

	mu    sync.Mutex
	byKey map[string]*list.Element // of *keptView
	order *list.List               // most recently used first
}

// keptView is one kept answer.
type keptView struct {
	key     string
	version uint64
	at      time.Time
	// base is a page's frame data without the user, its content in Kept;
	// nil for a JSON body.
	base *pageBase
	page string
	body []byte // a JSON body
	// framed is the whole page as last framed, for the user and banner of
	// its key: the same user asking again gets it as it is.
	framed atomic.Pointer[framedPage]
}

// framedPage is a kept page in its frame.
type framedPage struct {
	key  string
	body []byte
}

func newKeptViews(version func() (uint64, bool)) *keptViews {
	if version == nil {
		return nil
	}
	return &keptViews{version: version, now: time.Now, byKey: map[string]*list.Element{}, order: list.New()}
}

// viewSlot is a request's place in the kept views: what it found, and the
// count it read before reading anything, under which what it builds is
// kept.
type viewSlot struct {
	views   *keptViews
	key     string
	version uint64
	found   *keptView
}

// slot looks the request's view up. kind names the view ("home",
// "api-recommendations"); the role and the query are part of the key,
// since a page shows only what the role can do and the query filters it.
// A nil result (no kept views, or a change count that cannot be trusted)
// means build the answer and keep nothing.
func (kv *keptViews) slot(r *http.Request, kind string) *viewSlot {
	if kv == nil {
		return nil
	}
	v, ok := kv.version()
	if !ok {
		return nil
	}
	role := ""
	if u := scorebridge.UserFromContext(r.Context()); u != nil {
		role = u.Role
	}
	s := &viewSlot{views: kv, key: kind + "\x00" + role + "\x00" + r.URL.RawQuery, version: v}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if el, ok := kv.byKey[s.key]; ok {
		view := el.Value.(*keptView)
		if view.version == v && kv.now().Sub(view.at) < keptViewTTL {
			kv.order.MoveToFront(el)
			s.found = view
		} else {
			kv.order.Remove(el)
			delete(kv.byKey, s.key)
		}
	}
	return s
}

// keep stores what the request built, unless the count has moved since the
// request read it (the answer may then mix before and after) or the answer
// is too big.
func (s *viewSlot) keep(view *keptView) {
	if s == nil || view.size() > keptViewMaxBytes {
		return
	}
	kv := s.views
	if v, ok := kv.version(); !ok || v != s.version {
		return
	}
	view.key, view.version, view.at = s.key, s.version, kv.now()
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if el, ok := kv.byKey[s.key]; ok {
		kv.order.Remove(el)
	}
	kv.byKey[s.key] = kv.order.PushFront(view)
	for kv.order.Len() > keptViewsMax {
		last := kv.order.Back()
		kv.order.Remove(last)
		delete(kv.byKey, last.Value.(*keptView).key)
	}
}

// size is how much a view holds.
func (v *keptView) size() int {
	n := len(v.body)
	if v.base != nil {
		n += len(v.base.Kept)
	}
	return n
}

// kept returns the view found, or nil.
func (s *viewSlot) kept() *keptView {
	if s == nil {
		return nil
	}
	return s.found
}
