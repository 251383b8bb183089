package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// loginPage is the data of the sign-in page.
type loginPage struct {
	pageBase
	Name  string
	Next  string
	Error string
	// OIDC names the identity provider button; "" hides it.
	OIDC string
}

// safeNext returns where to go after sign-in: a path on this site only, so
// the sign-in page cannot be used to send people elsewhere (open redirect).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t\\") {
		return "/"
	}
	return next
}

func (s *Server) oidcLabel() string {
	if s.auth == nil || s.auth.OIDC == nil {
		return ""
	}
	return s.auth.OIDC.DisplayName
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", &loginPage{
		pageBase: pageBase{Title: "Sign in"},
		Next:     safeNext(r.URL.Query().Get("next")),
		OIDC:     s.oidcLabel(),
		Error:    loginErrors[r.URL.Query().Get("error")],
	})
}

// loginErrors are the messages the identity provider callback can leave on
// the sign-in page (?error=); fixed texts only.
var loginErrors = map[string]string{
	"oidc":   "Sign-in with your organisation failed. Try again, or ask an admin to check the identity provider settings.",
	"ended":  "Your session has ended; sign in again.",
	"denied": "The identity provider did not sign you in.",
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The sign-in form could not be read."))
		return
	}
	name, password := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	page := &loginPage{pageBase: pageBase{Title: "Sign in"}, Name: name, Next: safeNext(r.PostForm.Get("next")), OIDC: s.oidcLabel()}
	if name == "" || password == "" {
		page.Error = "Enter your name and password."
		s.render(w, r, http.StatusBadRequest, "login", page)
		return
	}
	// The name is recorded (and throttled) as typed only when an account
	// has it: people type their password into the name field, and the
	// audit log must not keep it. Other names are kept as a digest.
	actor := name
	if _, err := s.auth.Accounts.FindAccountByName(r.Context(), name); scorebridge.ErrorCode(err) == scorebridge.ENOTFOUND {
		actor = unknownNameActor(name)
	} else if err != nil {
		s.error(w, r, err)
		return
	}
	// The attempt is counted before its password is checked: attempts sent
	// at once are checked one by one, each seeing the failures before it.
	release, err := s.enterSignIn(r.Context(), actor, clientAddress(r))
	if err != nil {
		if scorebridge.ErrorCode(err) != scorebridge.ETOOMANYREQUEST {
			s.error(w, r, err)
			return
		}
		s.recordAudit(r, &scorebridge.AuditEvent{Actor: actor, Action: scorebridge.AuditSignIn, Outcome: outcomeThrottled,
			Detail: map[string]any{"provider": scorebridge.ProviderLocal}})
		page.Error = scorebridge.ErrorMessage(err)
		w.Header().Set("Retry-After", "900")
		if err == errSignInBusy {
			w.Header().Set("Retry-After", "5")
		}
		s.render(w, r, http.StatusTooManyRequests, "login", page)
		return
	}
	acc, err := s.auth.Accounts.Authenticate(r.Context(), name, password)
	if err != nil {
		defer release() // after the failure is recorded, so the next attempt counts it
		if scorebridge.ErrorCode(err) != scorebridge.EUNAUTHORIZED {
			s.error(w, r, err)
			return
		}
		s.recordAudit(r, &scorebridge.AuditEvent{Actor: actor, Action: scorebridge.AuditSignIn, Outcome: scorebridge.OutcomeFailure,
			Detail: map[string]any{"provider": scorebridge.ProviderLocal}})
		page.Error = scorebridge.ErrorMessage(err)
		s.render(w, r, http.StatusUnauthorized, "login", page)
		return
	}
	release()
	if err := s.startSession(w, r, acc.ID); err != nil {
		s.error(w, r, err)
		return
	}
	s.recordAudit(r, &scorebridge.AuditEvent{Actor: acc.Name, Action: scorebridge.AuditSignIn, Target: acc.ID,
		Detail: map[string]any{"provider": scorebridge.ProviderLocal, "role": acc.Role}})
	if acc.MustChangePassword {
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
}

// unknownNameActor names a sign-in attempt under a name no account has: a
// short digest, the same for the same name so throttling still counts it,
// that does not reveal what was typed.
func unknownNameActor(name string) string {
	sum := sha256.Sum256([]byte("scorebridge unknown sign-in name\x00" + name))
	return "unknown name " + hex.EncodeToString(sum[:6])
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	act := actingFrom(r)
	if s.auth != nil && act.sessionToken != "" {
		if err := s.auth.Sessions.DeleteSession(r.Context(), act.sessionToken); err != nil {
			s.error(w, r, err)
			return
		}
		s.recordAudit(r, &scorebridge.AuditEvent{Action: scorebridge.AuditSignOut, Target: act.user.ID})
	}
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// passwordPage is the data of the change-password page.
type passwordPage struct {
	pageBase
	Forced bool
	Errors map[string]string
}

func (s *Server) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	act := actingFrom(r)
	if act.account == nil || act.account.Provider != scorebridge.ProviderLocal {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Only a local account signed in with a password can change it here."))
		return
	}
	s.render(w, r, http.StatusOK, "account_password", &passwordPage{pageBase: pageBase{Title: "Change password"}, Forced: act.account.MustChangePassword})
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	act := actingFrom(r)
	if act.account == nil || act.account.Provider != scorebridge.ProviderLocal {
		s.error(w, r, scorebridge.Errorf(scorebridge.ENOTFOUND, "Only a local account signed in with a password can change it here."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, scorebridge.Errorf(scorebridge.EINVALID, "The form could not be read."))
		return
	}
	page := &passwordPage{pageBase: pageBase{Title: "Change password"}, Forced: act.account.MustChangePassword, Errors: map[string]string{}}
	current, next, confirm := r.PostForm.Get("current"), r.PostForm.Get("password"), r.PostForm.Get("confirm")
	if next != confirm {
		page.Errors["confirm"] = "The two new passwords differ."
		s.render(w, r, http.StatusBadRequest, "account_password", page)
		return
	}
	if err := s.auth.Accounts.ChangePassword(r.Context(), act.account.ID, current, next); err != nil {
		if scorebridge.ErrorCode(err) != scorebridge.EINVALID {
			s.error(w, r, err)
			return
		}
		field := scorebridge.ErrorField(err)
		if field == "" {
			field = "password"
		}
		page.Errors[field] = scorebridge.ErrorMessage(err)
		s.recordAudit(r, &scorebridge.AuditEvent{Action: scorebridge.AuditPasswordChange, Outcome: scorebridge.OutcomeFailure, Target: act.account.ID})
		s.render(w, r, http.StatusBadRequest, "account_password", page)
		return
	}
	// Every other session of the account ends: whoever knew the old
	// password is signed out. This browser gets a fresh session.
	if err := s.auth.Sessions.DeleteAccountSessions(r.Context(), act.account.ID); err != nil {
		s.error(w, r, err)
		return
	}
	token, err := s.auth.Sessions.CreateSession(r.Context(), act.account.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.setSessionCookie(w, r, token)
	// The account store audited the change with it.
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
