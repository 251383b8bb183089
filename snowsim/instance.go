package snowsim

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Instance. The zero value is a fresh in-memory
// instance whose admin password is "admin".
type Options struct {
	// AdminPassword is the password of the seeded user "admin". Default
	// "admin". It seeds a new instance only: a state file keeps the password
	// stored in it, as a real instance keeps a changed password.
	AdminPassword string
	// StateFile, when set, is loaded by New (if it exists) and written back
	// atomically after writes (at most every SaveInterval) and on Close.
	StateFile string
	// SaveInterval bounds how often the state file is rewritten. Default 2s.
	SaveInterval time.Duration
	// Clock returns the current time. Default time.Now.
	Clock func() time.Time
	// BaseURL is the instance URL used in reference links and Link headers,
	// e.g. "https://dev12345.service-now.com". Default: derived from each
	// request's Host and scheme.
	BaseURL string
	// Scope is the application scope named in the cross-scope refusal
	// message. Default "x_scorebridge".
	Scope string
	// Knobs configure the parts beyond the core: OAuth, logins, rate limits,
	// faults and notifications (knobs.go).
	Knobs Knobs
}

// Instance is one simulated ServiceNow instance. It is an http.Handler and is
// safe for concurrent use.
type Instance struct {
	opts  Options
	clock func() time.Time

	mu       sync.RWMutex
	tables   map[string]*Table
	data     map[string]*tableData // by table name
	byID     map[string]Record     // every record of every table, by sys_id
	counters map[string]int        // last number used, by number prefix
	version  uint64                // bumped on every write; persistence compares it
	// choiceVersion is bumped on every write to sys_choice; choiceCache
	// holds the index of sys_choice built for it (records.go).
	choiceVersion uint64
	choiceCache   atomic.Pointer[choiceIndex]

	// ext is the state of the parts beyond the core (knobs.go), set by
	// their extension while New runs.
	ext *extState

	crossScopeBlocked atomic.Bool
	dataPolicy        atomic.Bool

	hooksMu  sync.RWMutex
	hooks    []RequestHook
	bearer   BearerLookup
	onWrite  []func(WriteEvent)
	mux      *http.ServeMux
	handler  http.Handler
	persist  *persister
	wal      *journal // the write-ahead journal of the state file (persist_journal.go)
	closeErr error
	closed   sync.Once
}

// Session is the authenticated caller of one request.
type Session struct {
	UserID   string // sys_user.sys_id
	UserName string // sys_user.user_name
	Roles    map[string]bool
	Location *time.Location // the user's time zone, for display values and dateGenerate
	Method   string         // "basic", "bearer", or "system" for Go calls
}

// HasRole reports whether the session holds role; admin holds every role.
func (s *Session) HasRole(role string) bool {
	return s.Roles["admin"] || s.Roles[role]
}

// RequestHook runs for every API request after authentication and before
// authorization and the handler (rate limits, fault injection). It returns
// true when it has answered the request itself.
type RequestHook func(w http.ResponseWriter, r *http.Request, s *Session) (handled bool)

// BearerLookup resolves an OAuth access token to the sys_id of its user. It
// is how OAuth (oauth_*.go) plugs Bearer authentication into the pipeline.
type BearerLookup func(token string) (userID string, ok bool)

// WriteEvent describes a committed insert, update or delete, for outbound
// notifications (after business rules).
type WriteEvent struct {
	Table     string // the record's class, e.g. "incident"
	Operation string // "insert", "update" or "delete"
	Record    Record // a copy of the record after the write (before, for delete)
}

// extensions are registered by other files of this package (OAuth, UI, ...)
// to add routes, hooks and seed data without editing New.
var extensions []func(*Instance)

// registerExtension adds f to what New runs on every new Instance, after the
// core routes and seed data. Call it from an init function.
func registerExtension(f func(*Instance)) { extensions = append(extensions, f) }

// New returns an instance seeded like a fresh one, loading Options.StateFile
// when it exists.
func New(opts Options) (*Instance, error) {
	if opts.AdminPassword == "" {
		opts.AdminPassword = "admin"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SaveInterval <= 0 {
		opts.SaveInterval = 2 * time.Second
	}
	if opts.Scope == "" {
		opts.Scope = "x_scorebridge"
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	var err error
	if err = opts.Knobs.validate(); err != nil {
		return nil, err
	}
	in := &Instance{
		opts:     opts,
		clock:    func() time.Time { return opts.Clock().UTC() },
		tables:   schemaDefs(),
		data:     map[string]*tableData{},
		byID:     map[string]Record{},
		counters: map[string]int{},
		mux:      http.NewServeMux(),
	}
	for name := range in.tables {
		in.data[name] = &tableData{}
	}
	loaded := false
	if opts.StateFile != "" {
		var err error
		if loaded, err = in.load(opts.StateFile); err != nil {
			return nil, err
		}
		if loaded {
			if err := in.replayJournals(opts.StateFile); err != nil {
				return nil, err
			}
		}
	}
	if !loaded {
		in.seed()
	}
	if opts.StateFile != "" {
		// The journal needs a state file to replay onto: a new instance
		// writes its seed data first.
		if in.wal, err = openJournal(opts.StateFile); err != nil {
			return nil, err
		}
		if _, err := in.saveTo(opts.StateFile); err != nil {
			in.wal.close()
			return nil, err
		}
	}
	in.routes()
	in.handler = in.mux
	for _, ext := range extensions {
		ext(in)
	}
	// The transport is outermost: faults and rate limits answer through it.
	in.handler = in.transport(in.handler)
	if opts.StateFile != "" {
		in.persist = startPersister(in)
	}
	return in, nil
}

// Close stops background work and writes the state file, when there is one.
// It is safe to call more than once.
func (in *Instance) Close() error {
	in.closed.Do(func() {
		in.ext.outbound.stop()
		if in.persist != nil {
			in.closeErr = in.persist.stop()
		}
		if in.wal != nil {
			in.wal.close()
		}
	})
	return in.closeErr
}

// ServeHTTP serves every endpoint of the instance.
func (in *Instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A real instance dates its answers by its own clock; clients (the
	// doctor's clock-skew check) compare it with theirs.
	w.Header().Set("Date", in.clock().Format(http.TimeFormat))
	in.handler.ServeHTTP(w, r)
}

// Handle registers an extra route on the instance's mux (UI pages, OAuth
// endpoints). Patterns follow net/http.ServeMux.
func (in *Instance) Handle(pattern string, h http.Handler) { in.mux.Handle(pattern, h) }

// Wrap puts middleware around the whole instance (fault injection, latency).
// The last wrap added runs first.
func (in *Instance) Wrap(mw func(http.Handler) http.Handler) { in.handler = mw(in.handler) }

// AddHook adds a hook to the API pipeline; see RequestHook.
func (in *Instance) AddHook(h RequestHook) {
	in.hooksMu.Lock()
	defer in.hooksMu.Unlock()
	in.hooks = append(in.hooks, h)
}

// SetBearerLookup installs the function that resolves Bearer tokens. Without
// one, Bearer credentials are refused with the documented 401.
func (in *Instance) SetBearerLookup(f BearerLookup) {
	in.hooksMu.Lock()
	defer in.hooksMu.Unlock()
	in.bearer = f
}

// OnWrite registers f to be called after every committed write, outside the
// store lock and on the writer's goroutine; f must not block for long.
func (in *Instance) OnWrite(f func(WriteEvent)) {
	in.hooksMu.Lock()
	defer in.hooksMu.Unlock()
	in.onWrite = append(in.onWrite, f)
}

// SetCrossScopeBlocked makes oauth_entity unreadable across application
// scopes, the customisation the troubleshooting guide describes.
func (in *Instance) SetCrossScopeBlocked(b bool) { in.crossScopeBlocked.Store(b) }

// SetDataPolicy turns on the data policy that makes close_code and
// close_notes mandatory to resolve or close incidents and change requests.
func (in *Instance) SetDataPolicy(b bool) { in.dataPolicy.Store(b) }

// apiHandler serves one API request for an authenticated session.
type apiHandler func(w http.ResponseWriter, r *http.Request, s *Session)

// api builds the request pipeline every REST API goes through:
// authenticate (Basic, or Bearer through the BearerLookup), then the hooks
// (rate limits and the like), then the handler, which authorizes through
// acl.go because what is allowed depends on the table and the operation.
func (in *Instance) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsXML(r) && !strings.HasSuffix(r.URL.Path, "/batch") && !attachmentDownloadPath.MatchString(r.URL.Path) {
			// The answer is built as JSON and sent as XML (xml.go).
			xw := newXMLWriter(w)
			defer xw.finish()
			w = xw
		}
		if s := sessionFrom(r.Context()); s != nil {
			// A batch item runs as the batch's caller.
			in.serveSession(w, r, s, h)
			return
		}
		s, err := in.authenticate(r)
		w.Header().Set("X-Is-Logged-In", strconv.FormatBool(err == nil))
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				ae = errNotAuthenticated()
			}
			writeError(w, ae)
			return
		}
		in.serveSession(w, r, s, h)
	})
}

// serveSession runs the post-authentication part of the pipeline; the Batch
// API uses it to run each item as the batch's caller.
func (in *Instance) serveSession(w http.ResponseWriter, r *http.Request, s *Session, h apiHandler) {
	in.hooksMu.RLock()
	hooks := in.hooks
	in.hooksMu.RUnlock()
	for _, hook := range hooks {
		if hook(w, r, s) {
			return
		}
	}
	h(w, r, s)
}

func (in *Instance) routes() {
	for _, prefix := range []string{"/api/now/table/", "/api/now/v1/table/", "/api/now/v2/table/"} {
		in.mux.Handle(prefix+"{table}", in.api(methods(map[string]apiHandler{
			http.MethodGet: in.tableList, http.MethodPost: in.tableInsert})))
		in.mux.Handle(prefix+"{table}/{sys_id}", in.api(methods(map[string]apiHandler{
			http.MethodGet: in.tableGet, http.MethodPut: in.tableUpdate, http.MethodPatch: in.tableUpdate, http.MethodDelete: in.tableDelete})))
	}
	for _, prefix := range []string{"/api/now/stats/", "/api/now/v1/stats/", "/api/now/v2/stats/"} {
		in.mux.Handle(prefix+"{table}", in.api(in.aggregate))
	}
	for _, path := range []string{"/api/now/batch", "/api/now/v1/batch", "/api/now/v2/batch"} {
		in.mux.Handle(path, in.api(in.batch))
	}
	in.attachmentRoutes()
	in.importRoutes()
	// Anything else under /api answers as ServiceNow does for an unknown URI,
	// after authentication like every API.
	in.mux.Handle("/api/", in.api(func(w http.ResponseWriter, r *http.Request, s *Session) {
		writeError(w, errNoResource())
	}))
}

// systemSession is the session of Go method calls: an admin in the system
// time zone.
func (in *Instance) systemSession() *Session {
	return in.systemSessionLocked(in.systemLocation())
}

// systemSessionLocked is systemSession for callers that already hold in.mu:
// taking the read lock a second time would deadlock as soon as a writer is
// waiting between the two.
func (in *Instance) systemSessionLocked(loc *time.Location) *Session {
	return &Session{UserName: "system", Roles: map[string]bool{"admin": true}, Location: loc, Method: "system"}
}

func (in *Instance) notify(events []WriteEvent) {
	if len(events) == 0 {
		return
	}
	in.hooksMu.RLock()
	subs := in.onWrite
	in.hooksMu.RUnlock()
	for _, ev := range events {
		for _, f := range subs {
			f(ev)
		}
	}
}
