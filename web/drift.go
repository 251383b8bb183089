package web

// driftRoutes are the Drift page and its API.
func (s *Server) driftRoutes() []route {
	if s.drift == nil {
		return nil
	}
	return nil
}
