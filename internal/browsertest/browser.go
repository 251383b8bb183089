// Package browsertest drives Debian's Chromium for the browser tests: it
// starts a headless browser with a fresh profile for each test, records every
// console error and failed request of the pages it opens, checks each page
// with axe-core (installed from npm beside this file) and for horizontal
// scrolling, and saves a screenshot when a test fails.
//
// A machine without a browser skips the tests with a message saying so;
// with SCOREBRIDGE_BROWSER_TESTS=require (as CI sets it) a missing browser
// or axe-core fails them instead, so CI never passes by skipping.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ActionTimeout bounds one step of a test (a navigation, a click, a wait),
// so a page that never shows what a test waits for fails the test with a
// screenshot instead of hanging until the go test timeout.
const ActionTimeout = 30 * time.Second

// Page is one browser tab of a test, with its own browser and profile.
type Page struct {
	t   testing.TB
	ctx context.Context // the tab; steps derive a timeout from it

	mu       sync.Mutex
	problems []string        // console errors and failed requests not yet reported
	allowed  map[string]bool // URL paths whose 4xx answer is what the test expects
	base     string          // the center's URL, to print paths rather than URLs
}

// browserPath finds the browser: SCOREBRIDGE_CHROMIUM, else Debian's
// chromium on PATH.
func browserPath() string {
	if p := os.Getenv("SCOREBRIDGE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// required reports whether a missing browser must fail the test (CI) rather
// than skip it.
func required() bool { return os.Getenv("SCOREBRIDGE_BROWSER_TESTS") == "require" }

// packageDir is this package's folder, where package.json installs axe-core.
func packageDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript reads axe-core once per test binary.
func axeScript() (string, error) {
	axeOnce.Do(func() {
		path := filepath.Join(packageDir(), "node_modules", "axe-core", "axe.min.js")
		b, err := os.ReadFile(path)
		if err != nil {
			axeErr = fmt.Errorf("axe-core is not installed (%v): run `npm ci --prefix %s`", err, packageDir())
			return
		}
		axeSource = string(b)
	})
	return axeSource, axeErr
}

// Open starts a headless Chromium for the test and returns its tab, sized
// width x height. base is the center's URL; Go takes paths relative to it.
// Without a browser the test is skipped (or fails under CI's requirement).
func Open(t testing.TB, base string, width, height int64) *Page {
	t.Helper()
	exe := browserPath()
	if exe == "" {
		if required() {
			t.Fatal("no Chromium found (install Debian's chromium, or set SCOREBRIDGE_CHROMIUM); SCOREBRIDGE_BROWSER_TESTS=require")
		}
		t.Skip("browser test skipped: no Chromium installed (apt-get install chromium, or set SCOREBRIDGE_CHROMIUM)")
	}
	if _, err := axeScript(); err != nil {
		if required() {
			t.Fatal(err)
		}
		t.Skipf("browser test skipped: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	p := &Page{t: t, allowed: map[string]bool{}, base: strings.TrimRight(base, "/")}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(p.listen))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	p.ctx = ctx
	// The first run starts the browser; it must not carry a timeout, which
	// would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	t.Cleanup(p.screenshotOnFailure)
	p.Viewport(width, height)
	return p
}

// listen records what the page reports that a person would see as broken:
// console errors, uncaught exceptions and requests that failed. It runs in
// the tab's event loop, so it only appends.
func (p *Page) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *cdpruntime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		problem = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *log.EventEntryAdded:
		// Network entries are reported from the network events below, where
		// an expected 4xx page can be told apart.
		if ev.Entry.Level == log.EntryLevelError && ev.Entry.Source != log.EntrySourceNetwork {
			problem = fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 && !p.isAllowed(ev.Response.URL) {
			problem = fmt.Sprintf("request failed: %s %s answered %d %s", ev.Type, p.short(ev.Response.URL), ev.Response.Status, ev.Response.StatusText)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			problem = fmt.Sprintf("request failed: %s (%s) %s", ev.Type, ev.ErrorText, ev.BlockedReason)
		}
	}
	if problem != "" {
		p.mu.Lock()
		p.problems = append(p.problems, problem)
		p.mu.Unlock()
	}
}

func (p *Page) short(u string) string { return strings.TrimPrefix(u, p.base) }

func (p *Page) isAllowed(u string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	path := p.short(u)
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	return p.allowed[path]
}

// ExpectErrorStatus tells the page that path (without query) answering 4xx
// or 5xx is what the test wants (an error page, a form sent back with its
// errors), so it is not reported as a failed request.
func (p *Page) ExpectErrorStatus(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed[path] = true
}

// Context is the tab's context, for chromedp calls the helpers lack.
func (p *Page) Context() context.Context { return p.ctx }

// URL makes a center URL from a path.
func (p *Page) URL(path string) string { return p.base + path }

// Do runs steps with the step timeout and fails the test on an error.
func (p *Page) Do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", p.explain(err))
	}
}

// Run runs one action that returns a value, with the step timeout.
func Run[T any](p *Page, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("browser: %v", p.explain(err))
	}
	return v
}

// explain adds the page's address and what it reported to an error, which
// is what one needs to understand a step that timed out.
func (p *Page) explain(err error) error {
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	p.mu.Lock()
	probs := strings.Join(p.problems, "\n  ")
	p.mu.Unlock()
	if probs != "" {
		probs = "; the page reported:\n  " + probs
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("step did not finish within %s: %w", ActionTimeout, err)
	}
	return fmt.Errorf("on %s: %w%s", p.short(loc), err, probs)
}

// Go opens a path of the center and waits for the page to load.
func (p *Page) Go(path string) {
	p.t.Helper()
	p.Do(chromedp.Navigate(p.URL(path)))
}

// Viewport sets the size of the page's window in CSS pixels.
func (p *Page) Viewport(width, height int64) {
	p.t.Helper()
	p.Do(chromedp.EmulateViewport(width, height))
}

// Path is the current page's path and query.
func (p *Page) Path() string {
	p.t.Helper()
	return p.short(Run(p, chromedp.Location()))
}

// Text is the visible text of the first element matching a CSS selector,
// waiting for it to be there.
func (p *Page) Text(css string) string {
	p.t.Helper()
	return Run(p, chromedp.Text(chromedp.CSS(css)))
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	return Run(p, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// Click clicks the first visible element matching a CSS selector.
func (p *Page) Click(css string) {
	p.t.Helper()
	p.Do(chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// ClickAndLoad clicks an element that starts a navigation (a link, a submit
// button) and waits until the new page has loaded.
func (p *Page) ClickAndLoad(css string) {
	p.t.Helper()
	Run(p, chromedp.WaitEvent(pageLoaded, nil, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible)))
}

// Fill replaces the value of a field with text, typed as a person would.
func (p *Page) Fill(css, text string) {
	p.t.Helper()
	p.Do(chromedp.Clear(chromedp.CSS(css)), chromedp.SendKeys(chromedp.CSS(css), text))
}

// WaitVisible waits until an element matching a CSS selector is visible.
func (p *Page) WaitVisible(css string) {
	p.t.Helper()
	p.Do(chromedp.WaitVisible(chromedp.CSS(css)))
}

// WaitText waits until the text of the element matching css contains want:
// the page changes it itself (a live count, a status that the server
// pushes), so there is no event to wait on but the DOM's own mutations.
func (p *Page) WaitText(css, want string) {
	p.t.Helper()
	Run(p, chromedp.PollFunction[bool](`(sel, want) => { const el = document.querySelector(sel); return !!el && el.innerText.includes(want); }`,
		chromedp.WithPollingArgs(css, want), chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(ActionTimeout)))
}

// screenshotOnFailure saves the page as a PNG when the test failed, into
// SCOREBRIDGE_SCREENSHOTS or the temporary directory, and logs where.
func (p *Page) screenshotOnFailure() {
	if !p.t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		p.t.Logf("no screenshot: %v", err)
		return
	}
	dir := os.Getenv("SCOREBRIDGE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "scorebridge-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Logf("no screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(p.t.Name()) + ".jpg"
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Logf("no screenshot: %v", err)
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	p.t.Logf("screenshot of %s at failure: %s", p.short(loc), path)
}
