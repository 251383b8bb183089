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
// transaction (with its audit event) and a connector's settings.
type Store interface {
	ApplyImport(ctx context.Context, src *scorebridge.PostureSource, b *scorebridge.ImportBatch) (*scorebridge.Import, error)
	FindSourceByID(ctx context.Context, id string) (*scorebridge.PostureSource, error)
	FindSources(ctx context.Context) ([]*scorebridge.PostureSource, error)
	SourceClientSecret(ctx context.Context, id string) (string, error)
	RecordSourceError(ctx context.Context, id, message string) error
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
}

// ImportFile detects the format of data, parses it and applies it to the
// source of its kind and tenant, created when new. A malformed or truncated
// file returns EINVALID naming the line, and nothing is stored.
func (im *Importer) ImportFile(ctx context.Context, name string, data []byte, origin string) (*scorebridge.Import, error) {
	b, err := ParseFile(data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	b.SHA256, b.Bytes, b.Origin, b.FileName = hex.EncodeToString(sum[:]), int64(len(data)), origin, filepath.Base(name)
	if name == "" {
		b.FileName = ""
	}
	src := &scorebridge.PostureSource{Kind: b.Kind, TenantID: b.TenantID, Name: sourceName(b)}
	return im.Store.ApplyImport(ctx, src, b)
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
func (im *Importer) ImportSource(ctx context.Context, id string) (*scorebridge.Import, error) {
	src, err := im.Store.FindSourceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !src.Connector {
		return nil, scorebridge.Errorf(scorebridge.EINVALID, "%s is fed by files; only a Graph connector can be read on demand.", src.Name)
	}
	b, err := im.readGraph(ctx, src)
	if err != nil {
		if rerr := im.Store.RecordSourceError(ctx, src.ID, err.Error()); rerr != nil && im.Logger != nil {
			im.Logger.Error("record posture source error", "source", src.ID, "err", rerr)
		}
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
	return im.Store.ApplyImport(ctx, src, b)
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
