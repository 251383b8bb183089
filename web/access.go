package web

import (
	"net/http"

	"github.com/scorebridge/scorebridge"
)

// accessPage shows admins who can sign in and which API tokens exist.
type accessPage struct {
	pageBase
	Accounts []*scorebridge.Account
	Tokens   []accessToken
}

// accessToken is a token as the access page shows it.
type accessToken struct {
	*scorebridge.APIToken
	Status string
}

// accessNotices are the confirmations the page shows after a redirect.
var accessNotices = map[string]string{"revoked": "API token revoked: it stops working at once."}

func (s *Server) handleAccessPage(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "This center has no sign-in."))
		return
	}
	accounts, err := s.auth.Accounts.FindAccounts(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	tokens, err := s.auth.Tokens.FindAPITokens(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := &accessPage{pageBase: pageBase{Title: "Access", Nav: "access", Notice: accessNotices[r.URL.Query().Get("done")]}, Accounts: accounts}
	now := s.auth.Now()
	for _, t := range tokens {
		status := "active"
		switch {
		case t.RevokedAt != nil:
			status = "revoked"
		case !t.Active(now):
			status = "expired"
		}
		page.Tokens = append(page.Tokens, accessToken{APIToken: t, Status: status})
	}
	s.render(w, r, http.StatusOK, "access", page)
}

func (s *Server) handleAccessTokenRevoke(w http.ResponseWriter, r *http.Request) {
	tokens := s.tokensOr404(w, r)
	if tokens == nil {
		return
	}
	id := r.PathValue("id")
	if err := tokens.RevokeAPIToken(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/access?done=revoked", http.StatusSeeOther)
}
