package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/scorebridge/scorebridge"
)

// navEntry is one link of the main navigation.
type navEntry struct {
	Key   string // what pageBase.Nav names to highlight it
	Label string
	Path  string
	Role  string // the least role that sees it, the same as its route's
}

// navCatalog is the navigation in its order. An entry shows only when the
// server has a page at its path, so a part of the center that is not built
// (or not configured) leaves no dead link.
var navCatalog = []navEntry{
	{"home", "Home", "/", scorebridge.RoleReader},
	{"score", "Secure Score", "/score", scorebridge.RoleReader},
	{"actions", "Improvement actions", "/actions", scorebridge.RoleReader},
	{"tickets", "Tickets", "/tickets", scorebridge.RoleReader},
	{"drift", "Drift", "/drift", scorebridge.RoleReader},
	{"connections", "ServiceNow", "/connections", scorebridge.RoleReader},
	{"sources", "Sources", "/sources", scorebridge.RoleReader},
	{"rules", "Rules", "/rules", scorebridge.RoleAdmin},
	{"audit", "Audit", "/audit", scorebridge.RoleAdmin},
	{"access", "Access", "/access", scorebridge.RoleAdmin},
	{"settings", "Settings", "/settings", scorebridge.RoleAdmin},
	{"notifications", "Notifications", "/notifications", scorebridge.RoleAdmin},
}

// navAliases are pages that belong to a section whose path they do not
// start with.
var navAliases = map[string]string{
	"/ticketProvisioning": "connections",
}

// buildNav keeps the catalog entries the routes serve.
func buildNav(routes []route) []navEntry {
	served := map[string]bool{}
	for _, rt := range routes {
		served[rt.pattern] = true
	}
	var nav []navEntry
	for _, e := range navCatalog {
		pattern := "GET " + e.Path
		if e.Path == "/" {
			pattern = "GET /{$}"
		}
		if served[pattern] {
			nav = append(nav, e)
		}
	}
	return nav
}

// navLink is a navigation entry as the layout shows it.
type navLink struct {
	navEntry
	Current bool
}

// navSection names the section a path belongs to: the entry with the
// longest path that prefixes it.
func navSection(nav []navEntry, path string) *navEntry {
	if key, ok := navAliases[path]; ok {
		for i := range nav {
			if nav[i].Key == key {
				return &nav[i]
			}
		}
	}
	var best *navEntry
	for i, e := range nav {
		if e.Path == "/" {
			if path == "/" {
				return &nav[i]
			}
			continue
		}
		if (path == e.Path || strings.HasPrefix(path, e.Path+"/")) && (best == nil || len(e.Path) > len(best.Path)) {
			best = &nav[i]
		}
	}
	return best
}

// fillNav sets what the layout needs to draw the navigation and the
// breadcrumbs of a page: the links the user may follow, the current one,
// and the section crumb when the page is below a section's own page.
func (s *Server) fillNav(r *http.Request, b *pageBase) {
	section := navSection(s.nav, r.URL.Path)
	if b.Nav == "" && section != nil {
		b.Nav = section.Key
	}
	for _, e := range s.nav {
		if b.User != nil && hasRole(b.User, e.Role) {
			b.NavLinks = append(b.NavLinks, navLink{navEntry: e, Current: e.Key == b.Nav})
		}
	}
	if section != nil && section.Path != "/" && r.URL.Path != section.Path && len(b.Crumbs) == 0 {
		b.Crumbs = []crumb{{Label: section.Label, Path: section.Path}}
	}
}

// crumb is one step of the breadcrumbs above a page's title.
type crumb struct {
	Label string
	Path  string
}

// roleLabels name the roles for people.
var roleLabels = map[string]string{
	scorebridge.RoleAdmin:    "Security admin",
	scorebridge.RoleOperator: "Security operator",
	scorebridge.RoleReader:   "Security reader",
}

// RoleLabel is the acting user's role in words.
func (p *pageBase) RoleLabel() string {
	if p.User == nil {
		return ""
	}
	if l, ok := roleLabels[p.User.Role]; ok {
		return l
	}
	return p.User.Role
}

// wayBack is where an error page sends the user back to: the page they
// came from when it is on this site and not the failing page itself, else
// the section the failing page belongs to, else home.
func (s *Server) wayBack(r *http.Request) (path, label string) {
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path != "" && ref.Path != r.URL.Path {
		back := safeNext(ref.RequestURI())
		if sec := navSection(s.nav, ref.Path); sec != nil && back != "/" {
			return back, "the previous page (" + sec.Label + ")"
		}
		if back != "/" {
			return back, "the previous page"
		}
	}
	if sec := navSection(s.nav, r.URL.Path); sec != nil && sec.Path != "/" && sec.Path != r.URL.Path {
		return sec.Path, sec.Label
	}
	return "/", "Home"
}
