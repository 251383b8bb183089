package posture

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

// Store is what the Importer needs of storage: applying a batch in one
// transaction, with the audit event the Importer builds from its outcome
// (audit), and a connector's settings.
type Store interface {
	ApplyImport(ctx context.Context, src *scorebridge.PostureSource, b *scorebridge.ImportBatch, audit func(*scorebridge.PostureSource, *scorebridge.Import) *scorebridge.AuditEvent) (*scorebridge.Import, error)
	FindSourceByID(ctx context.Context, id string) (*scorebridge.PostureSource, error)
	FindSources(ctx context.Context) ([]*scorebridge.PostureSource, error)
	SourceClientSecret(ctx context.Context, id string) (string, error)
	// RecordSourceError keeps a failure on the source with its audit
	// event in the same transaction.
	RecordSourceError(ctx context.Context, id, message string, event *scorebridge.AuditEvent) error
}

// ReadStore is the rest of what the sources pages and API read, passed
// through unchanged.
type ReadStore interface {
	CreateSource(ctx context.Context, s *scorebridge.PostureSource, clientSecret string) error
	FindImports(ctx context.Context, sourceID string, limit int) ([]*scorebridge.Import, error)
	FindUnmapped(ctx context.Context, importID int64) ([]*scorebridge.UnmappedRecord, error)
	SourceHistory(ctx context.Context, sourceID string, days int) ([]*scorebridge.ReportedScore, error)
	RemoveCatalog(ctx context.Context) (int, error)
	FindRegressed(ctx context.Context, limit int) ([]*scorebridge.Recommendation, error)
	SourceScore(ctx context.Context, sourceID string) (scorebridge.Score, error)
	UserScore(ctx context.Context) (scorebridge.Score, error)
	CatalogStatus(ctx context.Context) (n int, counting bool, err error)
}

// Importer parses files and reads connectors, and applies what they yield.
type Importer struct {
	Store Store
	// HTTPClient reaches the identity platform and Graph; it must be the
	// guarded client (NewHTTPClient). Required for connectors.
	HTTPClient *http.Client
	// AllowPrivate admits connector URLs on loopback and private
	// addresses (a local Graph stand-in).
	AllowPrivate bool
	Logger       *slog.Logger
	// Sleep waits between throttled attempts; default a timer (tests
	// record the waits instead).
	Sleep func(ctx context.Context, d time.Duration) error
	// Metrics, when set, counts imports by source kind and outcome and
	// times them (metrics.Registry).
	Metrics ImportObserver
	// Notifier, when set, is told of a connector that could not be read
	// and of controls that regressed.
	Notifier scorebridge.Notifier
	// CenterURL is the center's address for links in notifications.
	CenterURL string
}

// ImportObserver records what imports do, for /metrics.
type ImportObserver interface {
	// ObserveImport records one import of kind ("graph", "scubagear",
	// "prowler", "unknown" for a file not recognised) with its outcome
	// ("ok", "invalid", "failed") and how long it took.
	ObserveImport(kind, outcome string, d time.Duration)
}

// Import outcomes, as metrics count them.
const (
	outcomeOK      = "ok"
	outcomeInvalid = "invalid"
	outcomeFailed  = "failed"
)

// observe records an import's outcome.
func (im *Importer) observe(kind scorebridge.SourceKind, start time.Time, err error) {
	if im.Metrics == nil {
		return
	}
	if kind == "" {
		kind = "unknown"
	}
	outcome := outcomeOK
	switch {
	case err == nil:
	case scorebridge.ErrorCode(err) == scorebridge.EINVALID:
		outcome = outcomeInvalid
	default:
		outcome = outcomeFailed
	}
	im.Metrics.ObserveImport(string(kind), outcome, time.Since(start))
}

// apply stores a parsed batch with the import's audit event, and tells
// the notifier of the controls it found regressed.
func (im *Importer) apply(ctx context.Context, src *scorebridge.PostureSource, b *scorebridge.ImportBatch) (*scorebridge.Import, error) {
	imp, err := im.Store.ApplyImport(ctx, src, b, importEvent)
	if err != nil || imp.Regressed == 0 {
		return imp, err
	}
	im.notify(ctx, scorebridge.Notification{
		Kind: scorebridge.NotifyControlRegressed, Cause: "source:" + src.ID,
		Subject: fmt.Sprintf("%d controls of %s regressed", imp.Regressed, src.Name),
		Details: fmt.Sprintf("Import %d found %d controls that were achieved and no longer are.", imp.ID, imp.Regressed),
		Links:   im.links("Regressed controls", "/"),
	})
	return imp, nil
}

// notify hands n to the notifier; a notification that cannot be recorded
// is logged, never a reason to fail the import.
func (im *Importer) notify(ctx context.Context, n scorebridge.Notification) {
	if im.Notifier == nil {
		return
	}
	if err := im.Notifier.Notify(ctx, n); err != nil && im.Logger != nil {
		im.Logger.Error("record notification", "kind", n.Kind, "err", err)
	}
}

func (im *Importer) links(title, path string) []scorebridge.NotificationLink {
	if im.CenterURL == "" {
		return nil
	}
	return []scorebridge.NotificationLink{{Title: title, URL: strings.TrimRight(im.CenterURL, "/") + path}}
}

// ImportFile detects the format of data, parses it and applies it to the
// source of its kind and tenant, created when new. A malformed or truncated
// file returns EINVALID naming the line, and nothing is stored.
func (im *Importer) ImportFile(ctx context.Context, name string, data []byte, origin string) (imp *scorebridge.Import, err error) {
	start := time.Now()
	var kind scorebridge.SourceKind
	defer func() { im.observe(kind, start, err) }()
	b, err := ParseFile(data)
	if err != nil {
		return nil, err
	}
	kind = b.Kind
	sum := sha256.Sum256(data)
	b.SHA256, b.Bytes, b.Origin, b.FileName = hex.EncodeToString(sum[:]), int64(len(data)), origin, filepath.Base(name)
	if name == "" {
		b.FileName = ""
	}
	src := &scorebridge.PostureSource{Kind: b.Kind, TenantID: b.TenantID, Name: sourceName(b)}
	return im.apply(ctx, src, b)
}

func sourceName(b *scorebridge.ImportBatch) string {
	name := b.Kind.Label()
	switch {
	case b.TenantName != "":
		name += " (" + b.TenantName + ")"
	case b.TenantID != "":
		name += " (" + b.TenantID + ")"
	}
	return clipText(name, scorebridge.MaxTitleLength)
}

// ImportSource reads a Graph connector now and applies what it read. A
// failure is kept on the source (and audited) as well as returned.
func (im *Importer) ImportSource(ctx context.Context, id string) (imp *scorebridge.Import, err error) {
	src, err := im.Store.FindSourceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	defer func() { im.observe(src.Kind, start, err) }()
	if !src.Connector {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s is fed by files; only a Graph connector can be read on demand.", src.Name)
	}
	b, err := im.readGraph(ctx, src)
	if err != nil {
		if rerr := im.Store.RecordSourceError(ctx, src.ID, err.Error(), sourceErrorEvent(src.ID, err.Error())); rerr != nil && im.Logger != nil {
			im.Logger.Error("record posture source error", "source", src.ID, "err", rerr)
		}
		im.notify(ctx, scorebridge.Notification{
			Kind: scorebridge.NotifyImportFailed, Cause: "source:" + src.ID,
			Subject: src.Name + " could not be read",
			Details: err.Error(),
			Links:   im.links("Sources", "/sources"),
		})
		if scorebridge.ErrorCode(err) == scorebridge.EINTERNAL {
			// What Graph or the identity platform said is for the admin
			// to read: it holds no secret.
			return nil, scorebridge.Errorf(scorebridge.EUNAVAILABLE, "%s could not be read: %s", src.Name, err.Error())
		}
		return nil, err
	}
	b.Origin = "connector"
	if b.TenantID != "" && !strings.EqualFold(b.TenantID, src.TenantID) {
		b.Warnings = append(b.Warnings, fmt.Sprintf("Graph answered for tenant %s, not the source's %s.", b.TenantID, src.TenantID))
	}
	return im.apply(ctx, src, b)
}

// ImportConnectors reads every Graph connector, one after the other; the
// periodic job calls it on one replica. It returns the first error after
// trying them all.
func (im *Importer) ImportConnectors(ctx context.Context) error {
	sources, err := im.Store.FindSources(ctx)
	if err != nil {
		return err
	}
	var first error
	for _, s := range sources {
		if !s.Connector {
			continue
		}
		if _, err := im.ImportSource(ctx, s.ID); err != nil {
			if im.Logger != nil {
				im.Logger.Warn("posture import failed", "source", s.ID, "err", err)
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (im *Importer) graphClient(ctx context.Context, src *scorebridge.PostureSource) (*GraphClient, error) {
	secret, err := im.Store.SourceClientSecret(ctx, src.ID)
	if err != nil {
		return nil, err
	}
	return NewGraphClient(GraphConfig{
		TenantID: src.TenantID, ClientID: src.ClientID, ClientSecret: secret,
		TokenURL: src.TokenURL, GraphURL: src.GraphURL,
		HTTPClient: im.HTTPClient, AllowPrivate: im.AllowPrivate, Sleep: im.Sleep,
	})
}

func (im *Importer) readGraph(ctx context.Context, src *scorebridge.PostureSource) (*scorebridge.ImportBatch, error) {
	c, err := im.graphClient(ctx, src)
	if err != nil {
		return nil, err
	}
	g, partial, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	b := BuildGraphBatch(g)
	if len(partial) > 0 {
		b.Partial = true
		b.Complete = false
		for _, w := range partial {
			b.Warnings = append(b.Warnings, "Graph answered with part of its data (206): "+w+". Actions missing from it are not retired.")
		}
	}
	return b, nil
}

// WriteBack sends a center state to Graph for an action of a connector
// with write-back on. It does nothing (nil) for any other action, and for
// Planned, which Graph has no state for.
func (im *Importer) WriteBack(ctx context.Context, r *scorebridge.Recommendation, comment string) error {
	if r.SourceID == "" || r.SourceTool != scorebridge.ToolGraph {
		return nil
	}
	src, err := im.Store.FindSourceByID(ctx, r.SourceID)
	if err != nil || !src.Connector || !src.WriteBack {
		return err
	}
	state, ok := scorebridge.GraphStateOf(r.State)
	if !ok {
		return nil
	}
	c, err := im.graphClient(ctx, src)
	if err != nil {
		return err
	}
	return c.UpdateControlState(ctx, r.ExternalID, state, comment, scorebridge.ActorFromContext(ctx))
}
