package web

import (
	"net/http"
	"time"

	"github.com/scorebridge/scorebridge"
)

// apiTokenCreated is the answer to POST /api/v1/tokens: the only time the
// token itself is shown.
type apiTokenCreated struct {
	Token string                `json:"token"`
	Item  *scorebridge.APIToken `json:"item"`
}

func (s *Server) tokensOr404(w http.ResponseWriter, r *http.Request) scorebridge.APITokenService {
	if s.auth == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "This center has no sign-in, so no API tokens."))
		return nil
	}
	return s.auth.Tokens
}

func (s *Server) handleAPITokenList(w http.ResponseWriter, r *http.Request) {
	tokens := s.tokensOr404(w, r)
	if tokens == nil {
		return
	}
	items, err := tokens.FindAPITokens(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if items == nil {
		items = []*scorebridge.APIToken{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": ""})
}

// handleAPITokenCreate makes a token from {"name", "role", "expiresAt"};
// expiresAt (RFC 3339) is optional.
func (s *Server) handleAPITokenCreate(w http.ResponseWriter, r *http.Request) {
	tokens := s.tokensOr404(w, r)
	if tokens == nil {
		return
	}
	members, err := readJSONObject(w, r)
	if err != nil {
		s.writeRequestError(w, r, err)
		return
	}
	t := &scorebridge.APIToken{}
	for _, m := range members {
		var v string
		if v, err = decodeString(m); err != nil {
			s.error(w, r, err)
			return
		}
		switch m.Name {
		case "name":
			t.Name = v
		case "role":
			t.Role = v
		case "expiresAt":
			e, perr := time.Parse(time.RFC3339, v)
			if perr != nil {
				s.error(w, r, scorebridge.FieldErrorf("expiresAt", "expiresAt must be an RFC 3339 time such as 2027-01-31T00:00:00Z"))
				return
			}
			t.ExpiresAt = &e
		default:
			s.error(w, r, scorebridge.FieldErrorf(m.Name, "%s is not a member of a token; send name, role and expiresAt", m.Name))
			return
		}
	}
	secret, err := tokens.CreateAPIToken(r.Context(), t)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tokens")
	writeJSON(w, http.StatusCreated, apiTokenCreated{Token: secret, Item: t})
}

func (s *Server) handleAPITokenRevoke(w http.ResponseWriter, r *http.Request) {
	tokens := s.tokensOr404(w, r)
	if tokens == nil {
		return
	}
	id := r.PathValue("id")
	if err := tokens.RevokeAPIToken(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
