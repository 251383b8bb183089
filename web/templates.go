package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scorebridge/scorebridge"
)

//go:embed templates
var templateFS embed.FS

// layoutTemplate is the page frame every page renders through.
const layoutTemplate = "layout.html"

// templateSet holds one parsed template per page, each made of the layout,
// the partials and the page's own "content".
type templateSet struct {
	pages map[string]*template.Template
}

// parseTemplates parses every page at start-up, so a syntax error or a call
// to an unknown function stops the server before it listens.
// fsys holds templates/layout.html, templates/partials/ and templates/pages/.
func parseTemplates(fsys fs.FS, funcs template.FuncMap) (*templateSet, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no page templates")
	}
	set := &templateSet{pages: map[string]*template.Template{}}
	for _, file := range files {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(fsys, file); err != nil {
			return nil, err
		}
		if t.Lookup(layoutTemplate) == nil {
			return nil, fmt.Errorf("templates/%s is missing", layoutTemplate)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("%s defines no \"content\" template", file)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(file, "templates/pages/"), ".html")
		set.pages[name] = t
	}
	return set, nil
}

// render renders a page (renderPage) and writes it.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data pageData) {
	s.renderKeeping(w, r, status, page, data, nil)
}

// renderKept answers with a kept page. Its frame (the user, the
// navigation, the database banner) is rendered for this request around the
// kept content, unless the last framing was for the same user and banner.
func (s *Server) renderKept(w http.ResponseWriter, r *http.Request, view *keptView) {
	key := s.frameKey(r)
	if f := view.framed.Load(); f != nil && f.key == key {
		writeHTML(w, http.StatusOK, f.body)
		return
	}
	base := *view.base
	body, err := s.renderPage(r, view.page, &base, false)
	if err != nil {
		s.renderFailed(w, r, err)
		return
	}
	view.framed.Store(&framedPage{key: key, body: body})
	writeHTML(w, http.StatusOK, body)
}

// renderKeeping renders a page and, with a slot, keeps its content for the
// requests that follow (kept_views.go). Only pages whose frame reads
// nothing but pageBase may be kept.
func (s *Server) renderKeeping(w http.ResponseWriter, r *http.Request, status int, page string, data pageData, slot *viewSlot) {
	body, err := s.renderPage(r, page, data, slot != nil)
	if err != nil {
		s.renderFailed(w, r, err)
		return
	}
	if slot != nil && status == http.StatusOK {
		b := data.base()
		view := &keptView{page: page, base: &pageBase{Title: b.Title, Nav: b.Nav, Notice: b.Notice, NoticeTicket: b.NoticeTicket, Kept: b.Kept}}
		view.framed.Store(&framedPage{key: s.frameKey(r), body: body})
		slot.keep(view)
	}
	writeHTML(w, status, body)
}

// renderPage executes a page into a buffer, so a failing template gives a
// clean error page rather than half a page with a 200 status. With
// keepContent, the page's content is executed on its own first and left
// in data's Kept, for the frame to show and the caller to keep.
func (s *Server) renderPage(r *http.Request, page string, data pageData, keepContent bool) ([]byte, error) {
	base := data.base()
	base.User = scorebridge.UserFromContext(r.Context())
	if s.writeProblem != nil {
		base.DatabaseProblem = s.writeProblem()
	}
	s.fillNav(r, base)
	t, ok := s.templates.pages[page]
	if !ok {
		return nil, fmt.Errorf("no page template %q", page)
	}
	if keepContent && base.Kept == "" {
		var content strings.Builder
		if err := t.ExecuteTemplate(&content, "content", data); err != nil {
			return nil, fmt.Errorf("render %s: %w", page, err)
		}
		base.Kept = template.HTML(content.String())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layoutTemplate, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

// frameKey is what a page's frame shows of the request beyond its path:
// who is signed in and the database banner.
func (s *Server) frameKey(r *http.Request) string {
	key := ""
	if u := scorebridge.UserFromContext(r.Context()); u != nil {
		key = u.ID + "\x00" + u.Name + "\x00" + u.Role
	}
	if s.writeProblem != nil {
		key += "\x00" + s.writeProblem()
	}
	return key
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// renderFailed answers when even a page cannot be rendered; it avoids the
// templates entirely so it cannot fail the same way.
func (s *Server) renderFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.ErrorContext(r.Context(), "render failed", "path", r.URL.Path, "error", err.Error())
	http.Error(w, "Internal error.", http.StatusInternalServerError)
}

// pageData is the data of any page: it embeds pageBase.
type pageData interface{ base() *pageBase }

// pageBase is what the layout needs from every page.
type pageBase struct {
	// User is the acting user, shown in the header; render sets it.
	User  *scorebridge.User
	Title string
	// Nav names the header link to highlight (a navEntry key); "" takes
	// the section the path is in.
	Nav string
	// NavLinks and Crumbs are filled by render from the route table.
	NavLinks []navLink
	Crumbs   []crumb
	// Notice is a one-line confirmation shown above the content.
	Notice string
	// NoticeTicket, when set, is a ticket still on its way to ServiceNow
	// that the notice is about: the page's script follows its status and
	// rewrites the notice when it is sent or fails.
	NoticeTicket string
	// DatabaseProblem says why the database cannot be written, shown on
	// every page while it lasts; render sets it.
	DatabaseProblem string
	// Kept is the page's content rendered before and kept (kept_views.go):
	// the frame shows it in place of executing the page's content again.
	Kept template.HTML
}

func (p *pageBase) base() *pageBase { return p }

// Can reports whether the acting user holds at least role, so a page shows
// only the buttons that would work (the routes enforce it regardless).
func (p *pageBase) Can(role string) bool { return hasRole(p.User, role) }

// errorPage shows an error to a person.
type errorPage struct {
	pageBase
	Status  int
	Code    string
	Message string
	// Back is where the user came from on this site (or the section the
	// page is in), with BackLabel naming it, so the way back is one click.
	Back, BackLabel string
}

// templateFuncs are the functions every template may call.
func (s *Server) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"asset":        func(name string) (string, error) { return s.assets.url(name) },
		"num":          formatNumber,
		"remediation":  sanitizeRemediation,
		"datetime":     displayTime,
		"priority":     priorityName,
		"snPriority":   snPriorityName,
		"rawJSON":      formatRaw,
		"instanceHost": instanceHost,
		// idempotencyKey gives a form its key, so submitting it twice
		// creates once.
		"idempotencyKey": newIdempotencyKey,
		"categories":     func() []scorebridge.Category { return scorebridge.Categories },
		// shareTypes are the ticket types the share menus offer.
		"shareTypes": shareTypes,
		// payloadNames names the coded values of a ticket's exchange.
		"payloadNames": payloadNames,
	}
}

// formatNumber prints a score with at most two decimals and no trailing
// zeros: 10, 7.5, 3.33.
func formatNumber(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// formatTime prints a time in UTC to the minute; the zero time prints as "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
