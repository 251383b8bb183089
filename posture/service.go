package posture

import (
	"context"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// Service is the posture service the web layer and the commands use: the
// Importer and the store's reads behind one value.
type Service struct {
	*Importer
	ReadStore
}

var _ scorebridge.PostureService = (*Service)(nil)

// NewService returns the service; store must hold both sides (sqlstore's
// PostureStore does).
func NewService(im *Importer, store ReadStore) *Service {
	return &Service{Importer: im, ReadStore: store}
}

// FindSourceByID returns ENOTFOUND if there is no such source.
func (s *Service) FindSourceByID(ctx context.Context, id string) (*scorebridge.PostureSource, error) {
	return s.Importer.Store.FindSourceByID(ctx, id)
}

// FindSources lists every source.
func (s *Service) FindSources(ctx context.Context) ([]*scorebridge.PostureSource, error) {
	return s.Importer.Store.FindSources(ctx)
}

// CreateSource checks a connector's URLs with the outbound guard before
// the store keeps the source. Returns EINVALID or ECONFLICT.
func (s *Service) CreateSource(ctx context.Context, src *scorebridge.PostureSource, clientSecret string) error {
	src.Name = strings.TrimSpace(src.Name)
	src.TenantID = strings.TrimSpace(src.TenantID)
	src.ClientID = strings.TrimSpace(src.ClientID)
	if src.Connector {
		var err error
		if src.TokenURL, err = ParseBaseURL("tokenUrl", src.TokenURL, scorebridge.DefaultGraphTokenURL, s.AllowPrivate); err != nil {
			return err
		}
		if src.GraphURL, err = ParseBaseURL("graphUrl", src.GraphURL, scorebridge.DefaultGraphURL, s.AllowPrivate); err != nil {
			return err
		}
	}
	return s.ReadStore.CreateSource(ctx, src, clientSecret)
}
