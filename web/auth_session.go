package web

import (
	"net/http"
)

// Session cookie names. Over TLS the __Host- prefix makes the browser refuse
// the cookie unless it is Secure, host-only and for the whole site, so a
// neighbouring subdomain cannot plant one.
const (
	sessionCookie       = "scorebridge_session"
	secureSessionCookie = "__Host-scorebridge_session"
)

func (s *Server) sessionCookieName(r *http.Request) string {
	if s.secure(r) {
		return secureSessionCookie
	}
	return sessionCookie
}

// setSessionCookie hands the browser a session token: HttpOnly so script
// cannot read it, SameSite=Lax so other sites' forms do not carry it, Secure
// over TLS. It has no Max-Age: the server ends sessions (idle and absolute
// timeouts), and the browser drops it when closed.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.sessionCookieName(r),
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.sessionCookieName(r),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// startSession signs a person in: any session the browser already had is
// ended first, and a new token is made, so a token planted before sign-in
// (session fixation) never becomes a signed-in one.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, accountID string) error {
	if c, err := r.Cookie(s.sessionCookieName(r)); err == nil && c.Value != "" {
		if err := s.auth.Sessions.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	token, err := s.auth.Sessions.CreateSession(r.Context(), accountID)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, token)
	return nil
}
