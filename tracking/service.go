package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/scorebridge/scorebridge"
	"github.com/scorebridge/scorebridge/servicenow"
	"github.com/scorebridge/scorebridge/sqlstore"
)

// Defaults of Config.
const (
	DefaultPageSize = 200
	DefaultOverlap  = 2 * time.Minute
)

// Config holds what a Service needs. Store, Instances, Recommendations
// and Logger are required.
type Config struct {
	Store           Store
	Instances       scorebridge.InstanceSource
	Recommendations scorebridge.RecommendationService
	Logger          *slog.Logger
	// Connections lists the connections SyncAll visits; optional: without
	// it SyncAll syncs the default connection.
	Connections ConnectionLister
	// PageSize is sysparm_limit of one sync call. Default 200.
	PageSize int
	// Overlap is subtracted from the watermark, so a record committed late
	// within the same seconds is still read. Default 2 minutes.
	Overlap time.Duration
	// DriftPolicy is what happens when a ticket finishes while its control
	// is not achieved. Default DriftNone. Settings, when set, decides
	// instead (its drift policy setting, read at each change).
	DriftPolicy scorebridge.DriftPolicy
	// Settings holds the drift policy and resolve-on-completed settings;
	// optional.
	Settings scorebridge.SettingsService
	// Drift keeps drift, so each is acted on once; optional: without it
	// a drift is only flagged on its ticket and regressions are not
	// followed.
	Drift DriftStore
	// Actions acts on drift (the drift policy) and on completed actions
	// (resolve-on-completed) through durable jobs; optional: without it
	// neither acts.
	Actions DriftActions
	// Listeners hear of each drift once, when it is found.
	Listeners []scorebridge.DriftListener
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// UnseenAfter is how long a tracked record may go unseen by the sync
	// (it did not change) before the sync checks it still exists, so a
	// deletion is found without sys_audit_delete. Default 1 hour.
	UnseenAfter time.Duration
	// UnseenBatch is how many sys_ids one check asks for (sys_idIN);
	// UnseenPerSync caps the records one sync checks. Defaults 100, 1000.
	UnseenBatch, UnseenPerSync int
}

// Service implements scorebridge.TrackingService and the push receiver.
type Service struct {
	cfg Config

	mu             sync.Mutex
	zones          map[string]*time.Location // integration user's zone, per connection
	extraListeners []scorebridge.DriftListener
}

var _ scorebridge.TrackingService = (*Service)(nil)

// New returns a tracking service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("tracking: Config.Store is required")
	case cfg.Instances == nil:
		return nil, errors.New("tracking: Config.Instances is required")
	case cfg.Recommendations == nil:
		return nil, errors.New("tracking: Config.Recommendations is required")
	case cfg.Logger == nil:
		return nil, errors.New("tracking: Config.Logger is required")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.DriftPolicy == "" {
		cfg.DriftPolicy = scorebridge.DriftNone
	}
	if !cfg.DriftPolicy.Valid() {
		return nil, fmt.Errorf("tracking: drift policy %q is not none, reopen or new", cfg.DriftPolicy)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UnseenAfter <= 0 {
		cfg.UnseenAfter = time.Hour
	}
	if cfg.UnseenBatch <= 0 {
		cfg.UnseenBatch = 100
	}
	if cfg.UnseenPerSync <= 0 {
		cfg.UnseenPerSync = 1000
	}
	return &Service{cfg: cfg, zones: map[string]*time.Location{}}, nil
}

// trackedTables are the tables the center's tickets live in.
var trackedTables = map[string]scorebridge.TicketType{
	servicenow.TableIncident:      scorebridge.TicketIncident,
	servicenow.TableChangeRequest: scorebridge.TicketChange,
	servicenow.TableProblem:       scorebridge.TicketProblem,
}

// syncFields are the only fields a sync asks for.
var syncFields = []string{"sys_id", "sys_class_name", "sys_mod_count", "sys_updated_on", "state", "assigned_to", "assignment_group",
	"priority", "due_date", "close_code", "close_notes", "resolved_at", "closed_at", "work_notes", "comments"}

// StateName names a state value with a fresh instance's label, or marks
// it unknown. What a page shows comes from the store, which puts the
// instance's labels and the admin's renames first.
func StateName(t scorebridge.TicketType, value string) string {
	if value == "" {
		return ""
	}
	if n := scorebridge.BuiltinStateName(t, value); n != "" {
		return n
	}
	return scorebridge.UnknownStateName(value)
}

// SyncConnection reads every tracked record changed since the watermark
// (minus the overlap), page by page, storing each page with the new
// watermark before asking for the next, then the deletions since the same
// watermark. A failure mid-way keeps what was stored.
func (s *Service) SyncConnection(ctx context.Context, connectionID string) (*scorebridge.SyncResult, error) {
	inst, err := s.cfg.Instances.ConnectedInstance(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	connID := inst.ConnectionID
	res := &scorebridge.SyncResult{ConnectionID: connID}
	client := servicenow.NewClient(inst.BaseURL, inst.HTTPClient)
	loc, err := s.zone(ctx, connID, client, res)
	if err != nil {
		return res, err
	}
	mark, err := s.cfg.Store.Watermark(ctx, connID)
	if err != nil {
		return res, err
	}
	since := time.Time{}
	if mark != "" {
		if since, err = servicenow.ParseDateTime(mark); err != nil {
			return res, fmt.Errorf("tracking: stored watermark %q: %w", mark, err)
		}
		since = since.Add(-s.cfg.Overlap)
		res.Watermark, _ = servicenow.ParseDateTime(mark)
	}
	from := dateGenerate(since, loc)
	query := "sys_class_nameINincident,change_request,problem^correlation_display=" + servicenow.CorrelationDisplay
	if !since.IsZero() {
		query += "^sys_updated_on>=" + from
	}
	query += "^ORDERBYsys_updated_on^ORDERBYsys_id"
	seen := map[string]int{}
	name := s.namer(ctx, connID)
	var started time.Time // the instance's clock when the first page was read
	for offset := 0; ; offset += s.cfg.PageSize {
		res.Calls++
		recs, total, at, err := client.ListWithDisplay(ctx, "task", servicenow.ListOptions{Query: query, Fields: syncFields, Limit: s.cfg.PageSize, Offset: offset})
		if err != nil {
			return res, err
		}
		if offset == 0 {
			started = at
		}
		changes := make([]scorebridge.RecordChange, 0, len(recs))
		pageMark := ""
		for _, r := range recs {
			c, ok := changeFromDisplay(r)
			if !ok {
				continue
			}
			if n, dup := seen[c.SysID]; dup && n >= c.ModCount {
				continue
			}
			seen[c.SysID] = c.ModCount
			changes = append(changes, c)
			if v := r["sys_updated_on"].Value; v > pageMark {
				pageMark = v
			}
		}
		res.Changed += len(changes)
		if pageMark < mark {
			pageMark = "" // never move the watermark back
		}
		applied, err := s.cfg.Store.ApplyChanges(ctx, connID, changes, name, pageMark)
		if err != nil {
			return res, err
		}
		if pageMark != "" {
			mark = pageMark
			res.Watermark, _ = servicenow.ParseDateTime(mark)
		}
		res.Applied += len(applied)
		s.follow(ctx, applied)
		if len(recs) < s.cfg.PageSize || (total >= 0 && offset+len(recs) >= total) {
			break
		}
	}
	// Every record changed before the first page was read has been read:
	// the next sync may start from then (minus the overlap for late
	// commits), not from the last record changed, which may be long ago.
	if at := started.Format(servicenow.DateTimeLayout); !started.IsZero() && at > mark {
		if _, err := s.cfg.Store.ApplyChanges(ctx, connID, nil, StateName, at); err != nil {
			return res, err
		}
		res.Watermark = started
	}
	n, err := s.syncDeletions(ctx, client, connID, since, loc, res)
	res.Deleted = n
	if err != nil {
		return res, err
	}
	n, err = s.checkUnseen(ctx, client, connID, res)
	res.Deleted += n
	return res, err
}

// syncDeletions reads sys_audit_delete for the tracked tables since the
// same watermark. An instance without the table (or without read access to
// it) leaves deletions to be found another day, and says so in the log.
func (s *Service) syncDeletions(ctx context.Context, client *servicenow.Client, connID string, since time.Time, loc *time.Location, res *scorebridge.SyncResult) (int, error) {
	q := "tablenameINincident,change_request,problem"
	if !since.IsZero() {
		q += "^sys_created_on>=" + dateGenerate(since, loc)
	}
	q += "^ORDERBYsys_created_on"
	deleted := 0
	for offset := 0; ; offset += s.cfg.PageSize {
		res.Calls++
		recs, total, err := client.List(ctx, "sys_audit_delete", servicenow.ListOptions{Query: q, Fields: []string{"documentkey", "tablename"}, Limit: s.cfg.PageSize, Offset: offset})
		var e *servicenow.Error
		if errors.As(err, &e) && (e.StatusCode == 400 || e.StatusCode == 403) {
			s.cfg.Logger.Warn("deletions not read: sys_audit_delete cannot be queried", "connection", connID, "error", err)
			return deleted, nil
		} else if err != nil {
			return deleted, err
		}
		changes := make([]scorebridge.RecordChange, 0, len(recs))
		for _, r := range recs {
			changes = append(changes, scorebridge.RecordChange{SysID: r["documentkey"], Table: r["tablename"], Deleted: true, Source: "sync"})
		}
		applied, err := s.cfg.Store.ApplyChanges(ctx, connID, changes, s.namer(ctx, connID), "")
		if err != nil {
			return deleted, err
		}
		deleted += len(applied)
		s.follow(ctx, applied)
		if len(recs) < s.cfg.PageSize || (total >= 0 && offset+len(recs) >= total) {
			return deleted, nil
		}
	}
}

// dateGenerate writes t as the encoded-query value the platform reads in
// the session user's time zone.
func dateGenerate(t time.Time, loc *time.Location) string {
	lt := t.In(loc)
	return "javascript:gs.dateGenerate('" + lt.Format("2006-01-02") + "','" + lt.Format("15:04:05") + "')"
}

// zone returns the integration user's time zone, read once per connection
// (its sys_user.time_zone, or the instance's default when it has none).
func (s *Service) zone(ctx context.Context, connID string, client *servicenow.Client, res *scorebridge.SyncResult) (*time.Location, error) {
	s.mu.Lock()
	loc := s.zones[connID]
	s.mu.Unlock()
	if loc != nil {
		return loc, nil
	}
	res.Calls++
	users, _, err := client.List(ctx, "sys_user", servicenow.ListOptions{Query: "sys_id=javascript:gs.getUserID()", Fields: []string{"time_zone"}, Limit: 1, NoCount: true})
	if err != nil {
		return nil, err
	}
	name := ""
	if len(users) > 0 {
		name = users[0]["time_zone"]
	}
	if name == "" {
		res.Calls++
		props, _, err := client.List(ctx, "sys_properties", servicenow.ListOptions{Query: "name=glide.sys.default.tz", Fields: []string{"value"}, Limit: 1, NoCount: true})
		if err == nil && len(props) > 0 {
			name = props[0]["value"]
		}
	}
	loc = nil
	if name != "" {
		if l, err := time.LoadLocation(name); err == nil {
			loc = l
		} else {
			s.cfg.Logger.Warn("integration user's time zone unknown here", "connection", connID, "zone", name)
		}
	}
	if loc == nil {
		// The integration user (itil) usually may not read sys_properties, so
		// the instance's default zone is often out of reach; guessing UTC there
		// would put the watermark hours off and miss every change. The user's
		// own record tells the zone its session speaks: a date-time's display
		// value is in that zone, its value in UTC.
		res.Calls++
		if loc, err = s.sessionOffset(ctx, client); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.zones[connID] = loc
	s.mu.Unlock()
	return loc, nil
}

// sessionOffset reads the integration user's own sys_updated_on with its
// display value and returns the session's offset from UTC as a fixed zone.
func (s *Service) sessionOffset(ctx context.Context, client *servicenow.Client) (*time.Location, error) {
	recs, _, _, err := client.ListWithDisplay(ctx, "sys_user", servicenow.ListOptions{Query: "sys_id=javascript:gs.getUserID()", Fields: []string{"sys_updated_on"}, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return time.UTC, nil
	}
	v := recs[0]["sys_updated_on"]
	utc, err1 := time.Parse(servicenow.DateTimeLayout, v.Value)
	local, err2 := time.Parse(servicenow.DateTimeLayout, v.Display)
	if err1 != nil || err2 != nil {
		return time.UTC, nil
	}
	// Zones are whole quarter hours away from UTC.
	offset := local.Sub(utc).Round(15 * time.Minute)
	return time.FixedZone(fmt.Sprintf("session UTC%+.2g", offset.Hours()), int(offset/time.Second)), nil
}

// changeFromDisplay reads a sync row.
func changeFromDisplay(r servicenow.DisplayRecord) (scorebridge.RecordChange, bool) {
	if _, ok := trackedTables[r["sys_class_name"].Value]; !ok {
		return scorebridge.RecordChange{}, false
	}
	mod, err := strconv.Atoi(r["sys_mod_count"].Value)
	if err != nil {
		return scorebridge.RecordChange{}, false
	}
	at, _ := servicenow.ParseDateTime(r["sys_updated_on"].Value)
	return scorebridge.RecordChange{
		SysID: r["sys_id"].Value, Table: r["sys_class_name"].Value, ModCount: mod, UpdatedOn: at,
		State: r["state"].Value, AssignedTo: r["assigned_to"].Display, AssignmentGroup: r["assignment_group"].Display,
		Priority: r["priority"].Value, DueDate: r["due_date"].Value, CloseCode: r["close_code"].Value, CloseNotes: r["close_notes"].Value,
		ResolvedAt: r["resolved_at"].Value, ClosedAt: r["closed_at"].Value,
		WorkNotes: r["work_notes"].Display, Comments: r["comments"].Display, Source: "sync",
	}, true
}

// Summary counts tickets by type and state.
func (s *Service) Summary(ctx context.Context) (map[scorebridge.TicketType]*scorebridge.TicketTypeSummary, error) {
	return s.cfg.Store.Summary(ctx)
}

// MinCalls is the fewest calls a sync of k changed records can make with
// page size p: ceil(k/p) pages (at least one) and one for deletions.
func MinCalls(k, p int) int {
	return max(1, int(math.Ceil(float64(k)/float64(p)))) + 1
}

var _ sqlstore.StateNamer = StateName

// ConnectionLister lists the connections a periodic sync visits.
type ConnectionLister interface {
	FindConnections(ctx context.Context) ([]*scorebridge.Connection, error)
}

// SyncAll syncs every connected connection (the default one when the
// service has no lister), one after another; a connection that fails is
// logged and the others still sync. It returns the first error.
func (s *Service) SyncAll(ctx context.Context) error {
	ids := []string{""}
	if s.cfg.Connections != nil {
		conns, err := s.cfg.Connections.FindConnections(ctx)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, c := range conns {
			if c.Status == scorebridge.ConnectionConnected || c.Status == scorebridge.ConnectionError {
				ids = append(ids, c.ID)
			}
		}
	}
	var first error
	for _, id := range ids {
		res, err := s.SyncConnection(ctx, id)
		if err != nil {
			s.cfg.Logger.Warn("ticket sync stopped; the next one resumes from the stored watermark", "connection", id, "error", err)
			if first == nil {
				first = err
			}
			continue
		}
		s.cfg.Logger.Info("tickets synced", "connection", res.ConnectionID, "calls", res.Calls, "changed", res.Changed, "applied", res.Applied, "deleted", res.Deleted)
	}
	// A regression the last import found after its ticket closed is
	// followed here too, should the import's own call have failed.
	if err := s.FollowRegressions(ctx); err != nil {
		s.cfg.Logger.Error("regressions not followed", "error", err)
		if first == nil {
			first = err
		}
	}
	return first
}

// settings returns the settings in force: the store's when there is one
// (a failure to read it is logged and reads as the defaults), else the
// Config's drift policy.
func (s *Service) settings(ctx context.Context) scorebridge.Settings {
	if s.cfg.Settings == nil {
		return scorebridge.Settings{Values: map[string]string{scorebridge.SettingDriftPolicy: string(s.cfg.DriftPolicy)}}
	}
	st, err := s.cfg.Settings.Settings(ctx)
	if err != nil {
		s.cfg.Logger.Error("settings not read; acting on the defaults", "error", err)
	}
	return st
}

// TicketTracking returns what the center tracks of a ticket's record.
func (s *Service) TicketTracking(ctx context.Context, ticketID string) (*scorebridge.TicketTracking, error) {
	return s.cfg.Store.FindTicketTracking(ctx, ticketID)
}
