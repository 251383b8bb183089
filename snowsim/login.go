package snowsim

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Browser logins: the session cookie that the OAuth authorization pages and
// the agent UI share, and the login, side door and logout pages.
//
//	GET  /login.do?sysparm_goto_url=/incident_list.do   login form (the SSO notice when SSO is on)
//	POST /login.do   form fields user_name, user_password, sysparm_goto_url
//	GET  /side_door.do?sysparm_goto_url=...             drops the current login, always the local form
//	GET  /logout.do                                      drops the current login
//
// Sessions live in memory and end after 30 idle minutes, the platform's
// default glide.ui.session_timeout; a restart logs everyone out.

// sessionCookie is the name of the login session cookie.
const sessionCookie = "JSESSIONID"

// sessionIdle is how long a login session lasts without use.
const sessionIdle = 30 * time.Minute

type loginStore struct {
	clock func() time.Time

	mu       sync.Mutex
	sessions map[string]*loginSession // by digest of the cookie value
}

// loginSession is one browser's login.
type loginSession struct {
	userID  string
	ck      string // the form token (sysparm_ck) that every POST must carry
	expires time.Time
}

func newLoginStore(clock func() time.Time) *loginStore {
	return &loginStore{clock: clock, sessions: map[string]*loginSession{}}
}

// start creates a session for userID and sets its cookie.
func (ls *loginStore) start(w http.ResponseWriter, r *http.Request, userID string) {
	id := newToken()
	now := ls.clock()
	ls.mu.Lock()
	for k, s := range ls.sessions {
		if !now.Before(s.expires) {
			delete(ls.sessions, k)
		}
	}
	ls.sessions[HashSecret(id)] = &loginSession{userID: userID, ck: newToken(), expires: now.Add(sessionIdle)}
	ls.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// lookup returns the live session of the request, extending it.
func (ls *loginStore) lookup(r *http.Request) (*loginSession, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	now := ls.clock()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	key := HashSecret(c.Value)
	s := ls.sessions[key]
	if s == nil {
		return nil, false
	}
	if !now.Before(s.expires) {
		delete(ls.sessions, key)
		return nil, false
	}
	s.expires = now.Add(sessionIdle)
	cp := *s
	return &cp, true
}

// end drops the request's session and clears its cookie.
func (ls *loginStore) end(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		ls.mu.Lock()
		delete(ls.sessions, HashSecret(c.Value))
		ls.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// browserSession returns the logged-in user of a browser request, with the
// login session for its form token. A user deactivated or locked out since
// logging in has no session any more.
func (in *Instance) browserSession(r *http.Request) (*Session, *loginSession, bool) {
	ls, ok := in.ext.logins.lookup(r)
	if !ok {
		return nil, nil, false
	}
	s, ok := in.SessionFor(ls.userID)
	if !ok {
		return nil, nil, false
	}
	s.Method = "browser"
	return s, ls, true
}

// localPath returns goto when it is a path on this instance, else def, so a
// login can never redirect a browser to another site.
func localPath(target, def string) string {
	if target == "" || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "/\\") {
		return def
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return def
	}
	return target
}

// loginPage is the data of login.html.
type loginPage struct {
	SSO     bool   // show the single sign-on notice instead of the form
	Goto    string // where to go after logging in
	Message string // why the last attempt failed
	Notice  string // an informational line, e.g. after logging out
}

// showLogin renders the login page; local forces the local form even when
// SSO is on (side_door.do, "Not you?").
func (in *Instance) showLogin(w http.ResponseWriter, target string, local bool, status int, msg string) {
	in.ext.ui.render(w, status, "login.html", "Log in", loginPage{
		SSO: in.SSO() && !local, Goto: localPath(target, "/incident_list.do"), Message: msg,
	})
}

func (in *Instance) loginRoutes() {
	in.Handle("GET /login.do", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.showLogin(w, r.URL.Query().Get("sysparm_goto_url"), false, http.StatusOK, "")
	}))
	in.Handle("GET /side_door.do", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.ext.logins.end(w, r)
		in.showLogin(w, r.URL.Query().Get("sysparm_goto_url"), true, http.StatusOK, "")
	}))
	in.Handle("GET /logout.do", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.ext.logins.end(w, r)
		http.Redirect(w, r, "/login.do", http.StatusFound)
	}))
	in.Handle("POST /login.do", http.HandlerFunc(in.loginSubmit))
}

// Login page messages. A wrong user name and a wrong password read the same;
// why a known user cannot log in is said only to someone who knows the
// password.
const (
	msgLoginInvalid  = "User name or password invalid"
	msgLoginLocked   = "User account is locked out. Contact your system administrator."
	msgLoginInactive = "User account is inactive. Contact your system administrator."
)

func (in *Instance) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		in.showLogin(w, "", true, http.StatusBadRequest, "The login form could not be read.")
		return
	}
	name, pw, target := r.PostForm.Get("user_name"), r.PostForm.Get("user_password"), r.PostForm.Get("sysparm_goto_url")
	in.mu.RLock()
	u := in.userByNameLocked(name)
	var userID, msg string
	switch {
	case u == nil || !passwordMatches(u["user_password"], pw):
		msg = msgLoginInvalid
	case u["locked_out"] == "true":
		msg = msgLoginLocked
	case u["active"] != "true":
		msg = msgLoginInactive
	default:
		userID = u["sys_id"]
	}
	in.mu.RUnlock()
	if msg != "" {
		// The local form again: whoever posted it was past the SSO notice.
		in.showLogin(w, target, true, http.StatusOK, msg)
		return
	}
	in.ext.logins.start(w, r, userID)
	http.Redirect(w, r, localPath(target, "/incident_list.do"), http.StatusSeeOther)
}

// requireLogin returns the browser's session, or redirects to the login page
// and returns false.
func (in *Instance) requireLogin(w http.ResponseWriter, r *http.Request) (*Session, *loginSession, bool) {
	s, ls, ok := in.browserSession(r)
	if !ok {
		http.Redirect(w, r, "/login.do?sysparm_goto_url="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return nil, nil, false
	}
	return s, ls, true
}
