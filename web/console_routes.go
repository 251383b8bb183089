package web

import "net/http"

// consoleRoutes are the console's own routes beside the pages: the icon
// browsers ask for at /favicon.ico whatever the page says.
func (s *Server) consoleRoutes() []route {
	return []route{
		{"GET /favicon.ico", rolePublic, s.handleFavicon},
	}
}

// handleFavicon answers /favicon.ico with the icon the pages link to, so
// the browser's own request is not a 404 in every log.
func (s *Server) handleFavicon(w http.ResponseWriter, r *http.Request) {
	f := s.assets.byName["favicon.svg"]
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(f.body)
}
