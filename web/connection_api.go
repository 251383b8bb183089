package web

import (
	"net/http"

	"github.com/scorebridge/scorebridge"
)

// connectionJSON is a connection as the API answers it. The Connection type
// holds no secret, so none can reach an answer.
type connectionJSON struct {
	*scorebridge.Connection
	StatusLabel             string `json:"statusLabel"`
	RefreshTokenExpiresSoon bool   `json:"refreshTokenExpiresSoon"`
	// WrongUser: authorized as another ServiceNow user than the
	// integration user; accept it (accept-user) or authorize again.
	WrongUser bool `json:"wrongUser"`
}

func (s *Server) connectionJSON(c *scorebridge.Connection) connectionJSON {
	v := s.viewConnection(c)
	return connectionJSON{Connection: c, StatusLabel: v.StatusLabel, RefreshTokenExpiresSoon: v.RefreshExpiresSoon, WrongUser: c.WrongUser()}
}

// GET /api/v1/connections: {"items": [connection, ...]}, the default first.
func (s *Server) handleAPIConnectionList(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) {
		return
	}
	all, err := s.connections.FindConnections(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	items := make([]connectionJSON, 0, len(all))
	for _, c := range all {
		items = append(items, s.connectionJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// GET /api/v1/connections/{id}
func (s *Server) handleAPIConnectionGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.connectionJSON(c))
}

// readStrings reads a JSON object whose members are all strings, refusing
// unknown members, into the fields named in dst.
func (s *Server) readStrings(w http.ResponseWriter, r *http.Request, dst map[string]*string) bool {
	return s.readFields(w, r, dst, nil)
}

// readFields is readStrings with members that are true or false as well.
func (s *Server) readFields(w http.ResponseWriter, r *http.Request, dst map[string]*string, flags map[string]*bool) bool {
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return false
	}
	for _, m := range members {
		if f, ok := flags[m.Name]; ok {
			if *f, err = decodeBool(m); err != nil {
				s.error(w, r, err)
				return false
			}
			continue
		}
		p, ok := dst[m.Name]
		if !ok {
			s.error(w, r, scorebridge.FieldErrorf(m.Name, "%s is not a field of this request", m.Name))
			return false
		}
		if *p, err = decodeString(m); err != nil {
			s.error(w, r, err)
			return false
		}
	}
	return true
}

// POST /api/v1/connections {"instance", "clientId", "clientSecret"}: 201
// with the pending connection.
func (s *Server) handleAPIConnectionCreate(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) {
		return
	}
	var in scorebridge.ConnectionCreate
	if !s.readStrings(w, r, map[string]*string{"instance": &in.Instance, "clientId": &in.ClientID, "clientSecret": &in.ClientSecret}) {
		return
	}
	c, err := s.connections.CreateConnection(r.Context(), in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/connections/"+c.ID)
	writeJSON(w, http.StatusCreated, s.connectionJSON(c))
}

// POST /api/v1/connections/checklist {"instance", "adminUser",
// "adminPassword", "integrationUser", "integrationPassword", "resetPassword"}:
// {"checks": [...], "connection": ... or null, "integrationPassword"}.
// 200 when every step passed, 422 otherwise.
func (s *Server) handleAPIConnectionChecklist(w http.ResponseWriter, r *http.Request) {
	if !s.requireConnections(w, r) {
		return
	}
	var in scorebridge.ChecklistInput
	if !s.readFields(w, r, map[string]*string{"instance": &in.Instance, "adminUser": &in.AdminUser, "adminPassword": &in.AdminPassword,
		"integrationUser": &in.IntegrationUser, "integrationPassword": &in.IntegrationPassword}, map[string]*bool{"resetPassword": &in.ResetPassword}) {
		return
	}
	res, err := s.connections.RunChecklist(r.Context(), in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	status := http.StatusOK
	for _, c := range res.Checks {
		if !c.OK {
			status = http.StatusUnprocessableEntity
		}
	}
	out := map[string]any{"checks": res.Checks, "connection": nil}
	if res.Connection != nil {
		out["connection"] = s.connectionJSON(res.Connection)
	}
	if res.IntegrationPassword != "" {
		out["integrationPassword"] = res.IntegrationPassword
	}
	writeJSON(w, status, out)
}

// POST /api/v1/connections/{id}/authorize: {"authorizeUrl"}, the instance
// page the integration user opens to allow the center.
func (s *Server) handleAPIConnectionAuthorize(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	u, err := s.connections.AuthorizeURL(r.Context(), c.ID, s.authorizationBinding(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"authorizeUrl": u})
}

// POST /api/v1/connections/{id}/accept-user: the connection, its
// authorized user now its integration user (see Connection.WrongUser).
func (s *Server) handleAPIConnectionAcceptUser(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err == nil {
		c, err = s.connections.AcceptAuthorizedUser(r.Context(), c.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.connectionJSON(c))
}

// POST /api/v1/connections/{id}/default: the connection, now the default.
func (s *Server) handleAPIConnectionDefault(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err == nil {
		err = s.connections.SetDefaultConnection(r.Context(), c.ID)
	}
	if err == nil {
		c, err = s.connections.FindConnectionByID(r.Context(), c.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.connectionJSON(c))
}

// DELETE /api/v1/connections/{id}: 204.
func (s *Server) handleAPIConnectionDelete(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err == nil {
		err = s.connections.RemoveConnection(r.Context(), c.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GET /api/v1/connections/{id}/doctor: {"checks": [{"name", "ok",
// "message", "fix"}]}.
func (s *Server) handleAPIConnectionDoctor(w http.ResponseWriter, r *http.Request) {
	c, err := s.findConnection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	checks, err := s.connections.Doctor(r.Context(), c.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if checks == nil {
		checks = []scorebridge.Check{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"checks": checks})
}
