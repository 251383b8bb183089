package web

import "github.com/scorebridge/scorebridge"

// authRoutes are the sign-in pages, API tokens and the audit log; allRoutes adds them
// to the route table.
func (s *Server) authRoutes() []route {
	const (
		reader = scorebridge.RoleReader
		admin  = scorebridge.RoleAdmin
	)
	return []route{
		{"GET /login", rolePublic, s.handleLoginPage},
		{"POST /login", rolePublic, s.handleLogin},
		{"POST /logout", reader, s.handleLogout},
		{"GET /auth/oidc/start", rolePublic, s.handleOIDCStart},
		{"GET " + oidcCallbackPath, rolePublic, s.handleOIDCCallback},
		{"GET /account/password", reader, s.handlePasswordPage},
		{"POST /account/password", reader, s.handlePasswordChange},
		{"GET /audit", admin, s.handleAuditPage},
		{"GET /access", admin, s.handleAccessPage},
		{"POST /access/tokens/{id}/revoke", admin, s.handleAccessTokenRevoke},
		{"GET /api/v1/audit", admin, s.handleAPIAudit},
		{"GET /api/v1/tokens", admin, s.handleAPITokenList},
		{"POST /api/v1/tokens", admin, s.handleAPITokenCreate},
		{"DELETE /api/v1/tokens/{id}", admin, s.handleAPITokenRevoke},
	}
}
