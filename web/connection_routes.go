package web

import "github.com/scorebridge/scorebridge"

// connectionRoutes are the ServiceNow connection pages and API. Everything
// that changes a connection, authorizes it or calls the instance (the
// doctor) is admin-only; reading the status is for every role.
func (s *Server) connectionRoutes() []route {
	const (
		reader = scorebridge.RoleReader
		admin  = scorebridge.RoleAdmin
	)
	return []route{
		{"GET /connections", reader, s.handleConnectionList},
		{"GET /connections/new", admin, s.handleConnectionNew},
		{"POST /connections", admin, s.idempotent(s.handleConnectionCreate)},
		{"POST /connections/checklist", admin, s.handleConnectionChecklist},
		{"GET /connections/callback", admin, s.handleConnectionCallback},
		{"GET /connections/{id}", reader, s.handleConnectionView},
		{"POST /connections/{id}/authorize", admin, s.handleConnectionAuthorize},
		{"POST /connections/{id}/default", admin, s.handleConnectionDefault},
		{"POST /connections/{id}/accept-user", admin, s.handleConnectionAcceptUser},
		{"GET /connections/{id}/remove", admin, s.handleConnectionRemoveConfirm},
		{"POST /connections/{id}/remove", admin, s.handleConnectionRemove},
		{"GET /connections/{id}/doctor", admin, s.handleConnectionDoctor},
		{"GET /ticketProvisioning", admin, s.handleTicketProvisioning},

		{"GET /api/v1/connections", reader, s.handleAPIConnectionList},
		{"POST /api/v1/connections", admin, s.idempotent(s.handleAPIConnectionCreate)},
		{"POST /api/v1/connections/checklist", admin, s.handleAPIConnectionChecklist},
		{"GET /api/v1/connections/{id}", reader, s.handleAPIConnectionGet},
		{"DELETE /api/v1/connections/{id}", admin, s.handleAPIConnectionDelete},
		{"POST /api/v1/connections/{id}/authorize", admin, s.handleAPIConnectionAuthorize},
		{"POST /api/v1/connections/{id}/default", admin, s.handleAPIConnectionDefault},
		{"POST /api/v1/connections/{id}/accept-user", admin, s.handleAPIConnectionAcceptUser},
		{"GET /api/v1/connections/{id}/doctor", admin, s.handleAPIConnectionDoctor},
	}
}
