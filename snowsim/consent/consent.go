// Package consent signs in on an instance's login page and presses Allow on
// its OAuth consent page, in code, as the integration user would in a browser.
// The demo uses it to connect the center to its embedded simulator, and tests
// use it for the same; it lives apart from the center's connection package so
// production code carries no HTML parser for it.
package consent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// AllowAs does in code what the integration user does in a browser: it
// opens the authorization URL, logs in on the instance's login page (the
// local form, past a single sign-on notice), presses Allow on the consent
// page, and returns the URL the instance redirected to: the center's
// callback with code and state. `scorebridge demo` uses it to connect the
// center to its embedded simulator; it speaks the simulator's pages, which
// follow ServiceNow's login (user_name, user_password) and consent forms.
// hc must not follow redirects to other hosts (NewHTTPClient does not).
// maxPageBytes caps what is read of one page.
const maxPageBytes = 256 << 10

func AllowAs(ctx context.Context, hc *http.Client, authorizeURL, user, password string) (*url.URL, error) {
	jar, _ := cookiejar.New(nil)
	b := &browser{hc: &http.Client{Transport: hc.Transport, Jar: jar, Timeout: hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	start, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("authorize URL: %w", err)
	}
	page, at, err := b.get(ctx, start)
	for step := 0; step < 6; step++ {
		if err != nil {
			return nil, err
		}
		if at.cb != nil {
			return at.cb, nil
		}
		switch {
		case page.form("login_form") != nil:
			f := page.form("login_form")
			f.values.Set("user_name", user)
			f.values.Set("user_password", password)
			page, at, err = b.submit(ctx, at.url, f, "")
		case page.form("consent_form") != nil:
			page, at, err = b.submit(ctx, at.url, page.form("consent_form"), "allow")
		case page.link("local_login") != "":
			next, perr := at.url.Parse(page.link("local_login"))
			if perr != nil {
				return nil, perr
			}
			page, at, err = b.get(ctx, next)
		default:
			return nil, fmt.Errorf("the instance showed a page with neither a login nor a consent form (%s)", at.url.Path)
		}
	}
	return nil, errors.New("the instance did not finish the authorization after six pages")
}

type browser struct{ hc *http.Client }

// location is where the browser ended: a page at url, or the callback.
type location struct {
	url *url.URL
	cb  *url.URL
}

func (b *browser) get(ctx context.Context, u *url.URL) (*parsedPage, location, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, location{}, err
	}
	return b.do(req)
}

func (b *browser) submit(ctx context.Context, from *url.URL, f *form, button string) (*parsedPage, location, error) {
	action, err := from.Parse(f.action)
	if err != nil {
		return nil, location{}, err
	}
	v := f.values
	if button != "" {
		v.Set(button, button)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(v.Encode()))
	if err != nil {
		return nil, location{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// do sends a request and follows redirects on the instance; a redirect to
// another host is the callback and ends the walk.
func (b *browser) do(req *http.Request) (*parsedPage, location, error) {
	for hops := 0; hops < 5; hops++ {
		resp, err := b.hc.Do(req)
		if err != nil {
			return nil, location{}, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
		resp.Body.Close()
		if err != nil {
			return nil, location{}, err
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			next, err := resp.Location()
			if err != nil {
				return nil, location{}, err
			}
			if next.Host != req.URL.Host || next.Query().Has("code") || next.Query().Has("error") {
				return nil, location{cb: next}, nil
			}
			if req, err = http.NewRequestWithContext(req.Context(), http.MethodGet, next.String(), nil); err != nil {
				return nil, location{}, err
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, location{}, fmt.Errorf("the instance answered %d on %s: %s", resp.StatusCode, req.URL.Path, pageText(body))
		}
		p, err := parsePage(body)
		if err != nil {
			return nil, location{}, err
		}
		if msg := p.byID["login_error"]; msg != "" {
			return nil, location{}, fmt.Errorf("the instance refused the login: %s", msg)
		}
		return p, location{url: req.URL}, nil
	}
	return nil, location{}, errors.New("too many redirects")
}

type form struct {
	action string
	values url.Values
}

type parsedPage struct {
	forms map[string]*form  // by id
	links map[string]string // href by id
	byID  map[string]string // text of elements by id
}

func (p *parsedPage) form(id string) *form  { return p.forms[id] }
func (p *parsedPage) link(id string) string { return p.links[id] }

func parsePage(body []byte) (*parsedPage, error) {
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	p := &parsedPage{forms: map[string]*form{}, links: map[string]string{}, byID: map[string]string{}}
	var cur *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			switch n.Data {
			case "form":
				cur = &form{action: a["action"], values: url.Values{}}
				p.forms[a["id"]] = cur
			case "input":
				if cur != nil && a["name"] != "" && a["type"] == "hidden" {
					cur.values.Add(a["name"], a["value"])
				}
			case "a":
				if a["id"] != "" {
					p.links[a["id"]] = a["href"]
				}
			}
			if a["id"] != "" {
				p.byID[a["id"]] = textOf(n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			cur = nil
		}
	}
	walk(doc)
	return p, nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// pageText is the readable text of an error page, shortened.
func pageText(body []byte) string {
	p, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return ""
	}
	t := strings.Join(strings.Fields(textOf(p)), " ")
	if len(t) > 300 {
		t = t[:300] + "..."
	}
	return t
}
