package web

import (
	"context"

	"github.com/scorebridge/scorebridge"
)

// PostureService is what the sources pages and API need: imports, sources,
// and the reads that show imported data beside the score.
type PostureService interface {
	scorebridge.PostureService
	// FindRegressed returns actions that were achieved and no longer are.
	FindRegressed(ctx context.Context, limit int) ([]*scorebridge.Recommendation, error)
	// SourceScore is the center's score of one source's actions alone.
	SourceScore(ctx context.Context, sourceID string) (scorebridge.Score, error)
	// UserScore is the score of the user recommendations alone.
	UserScore(ctx context.Context) (scorebridge.Score, error)
	// CatalogStatus counts the built-in sample actions and says whether
	// they still count toward the score.
	CatalogStatus(ctx context.Context) (n int, counting bool, err error)
}

// postureRoutes are the routes of posture sources and imports.
func (s *Server) postureRoutes() []route {
	const (
		reader   = scorebridge.RoleReader
		operator = scorebridge.RoleOperator
		admin    = scorebridge.RoleAdmin
	)
	return []route{
		{"GET /sources", reader, s.handleSourcesPage},
		{"POST /sources", admin, s.handleSourceCreate},
		{"POST /sources/upload", admin, s.handleSourceUpload},
		{"POST /sources/catalog/remove", admin, s.handleCatalogRemove},
		{"GET /sources/{id}", reader, s.handleSourcePage},
		{"POST /sources/{id}/import", operator, s.handleSourceImportNow},

		{"GET /api/v1/sources", reader, s.handleAPISourceList},
		{"POST /api/v1/sources", admin, s.handleAPISourceCreate},
		{"GET /api/v1/sources/{id}", reader, s.handleAPISourceGet},
		{"GET /api/v1/sources/{id}/imports", reader, s.handleAPISourceImports},
		{"GET /api/v1/sources/{id}/history", reader, s.handleAPISourceHistory},
		{"POST /api/v1/sources/{id}/import", operator, s.handleAPISourceImport},
		{"POST /api/v1/imports", admin, s.handleAPIImportFile},
		{"GET /api/v1/imports/{id}/unmapped", reader, s.handleAPIImportUnmapped},
		{"GET /api/v1/regressions", reader, s.handleAPIRegressions},
		{"POST /api/v1/catalog/remove", admin, s.handleAPICatalogRemove},
	}
}
