package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/scorebridge/scorebridge/internal/browsertest"
	"github.com/scorebridge/scorebridge/notify"
)

// TestBrowserNotifications: an admin adds a webhook on the Notifications
// page, is shown its signing secret once, sends a test that arrives signed
// with it, and the page with its target passes the checks at 360 and 1920
// px; a receiver that fails is shown as the last error.
func TestBrowserNotifications(t *testing.T) {
	t.Parallel()
	bodies := make(chan string, 4)
	fail := make(chan bool, 4)
	var mu sync.Mutex
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(notify.HeaderTimestamp), 10, 64)
		mu.Lock()
		want := notify.Sign(secret, ts, body)
		mu.Unlock()
		if r.Header.Get(notify.HeaderSignature) != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		select {
		case <-fail:
			http.Error(w, "receiver down for maintenance", http.StatusServiceUnavailable)
			return
		default:
		}
		bodies <- string(body)
	}))
	t.Cleanup(hook.Close)

	d := browserDemo(t)
	p := browsertest.Open(t, d.center.URL(), 360, 800)
	signInFirstTime(t, p)
	p.Go("/notifications")
	p.Check("notifications, no target")
	p.Fill("#w-name", "SecOps hook")
	p.Fill("#w-url", hook.URL+"/in")
	p.ClickAndLoad("form:has(#w-url) button[type=submit]")
	shown := p.Text("#secret-h + p + p code")
	if len(shown) < 40 {
		t.Fatalf("no signing secret shown: %q\n%s", shown, p.Text("main"))
	}
	mu.Lock()
	secret = shown // what the admin gives the receiver
	mu.Unlock()
	p.Go("/notifications")
	if strings.Contains(p.Text("main"), shown) {
		t.Error("the signing secret is shown again")
	}
	for _, width := range []int64{360, 1920} {
		p.Viewport(width, 900)
		p.Go("/notifications")
		p.Check("notifications with a target at " + strconv.Itoa(int(width)) + " px")
	}
	p.ClickAndLoad("form[action$='/test'] button")
	if got := p.Text("main"); !strings.Contains(got, "Test message delivered") {
		t.Errorf("after the test the page says:\n%s", got)
	}
	if body := <-bodies; !strings.Contains(body, "Test message for SecOps hook") {
		t.Errorf("the test message = %s", body)
	}
	fail <- true
	p.ExpectErrorStatus(browsertest.Eval[string](p, `document.querySelector("form[action$='/test']").getAttribute("action")`))
	p.ClickAndLoad("form[action$='/test'] button")
	p.Go("/notifications")
	if got := p.Text("main"); !strings.Contains(got, "Last error: webhook 127.0.0.1") || !strings.Contains(got, "503") {
		t.Errorf("the failed test is not shown:\n%s", got)
	}
}
