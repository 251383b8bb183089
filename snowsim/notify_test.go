package snowsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scorebridge/scorebridge/snowsim"
)

// receiver is a local endpoint that records notifications; it can fail the
// first deliveries on purpose.
type receiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	got       []snowsim.Notification
	failFirst int
	calls     int
	arrived   chan struct{}
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	rc := &receiver{failFirst: failFirst, arrived: make(chan struct{}, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.calls++
		if rc.calls <= rc.failFirst {
			rc.mu.Unlock()
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var n snowsim.Notification
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &n) != nil {
			rc.mu.Unlock()
			t.Errorf("notification is not JSON: %q %s", r.Header.Get("Content-Type"), raw)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		rc.got = append(rc.got, n)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		rc.arrived <- struct{}{}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) wait(t *testing.T, n int) []snowsim.Notification {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-rc.arrived:
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d notifications", i, n)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]snowsim.Notification(nil), rc.got...)
}

func TestNotificationsForInsertAndUpdate(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	e := newSimEnv(t, snowsim.Knobs{NotifyURL: rc.srv.URL, NotifyMaxDelay: 5 * time.Millisecond})
	p := e.basic(t, http.MethodPost, "/api/now/table/incident", `{"short_description":"pushed","impact":"1","urgency":"1"}`)
	if p.status != http.StatusCreated {
		t.Fatalf("insert: %d", p.status)
	}
	var created struct{ Result map[string]any }
	_ = json.Unmarshal([]byte(p.body), &created)
	id := created.Result["sys_id"].(string)
	if p := e.basic(t, http.MethodPatch, "/api/now/table/incident/"+id, `{"state":"2","work_notes":"on it"}`); p.status != http.StatusOK {
		t.Fatalf("update: %d", p.status)
	}
	// Writes to tables that are no task send nothing.
	if _, err := e.in.Insert("sys_user_group", map[string]string{"name": "Quiet"}); err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t, 2)
	byOp := map[string]snowsim.Notification{}
	for _, n := range got {
		byOp[n.Operation] = n
	}
	ins, upd := byOp["insert"], byOp["update"]
	if ins.Table != "incident" || ins.SysID != id || ins.Record["short_description"] != "pushed" || ins.Record["priority"] != "1" || ins.SysModCount != "0" {
		t.Errorf("insert notification: %+v", ins)
	}
	if upd.Table != "incident" || upd.Record["state"] != "2" || upd.SysModCount != "1" || upd.SysUpdatedOn == "" {
		t.Errorf("update notification: %+v", upd)
	}
	if err := e.in.WaitNotifications(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 2 {
		t.Errorf("received %d notifications, want 2 (no journal rows, no sys_user_group)", len(rc.got))
	}
	if st := e.in.NotificationStats(); st.Delivered != 2 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestNotificationRetriesAFailingReceiver(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 2)
	e := newSimEnv(t, snowsim.Knobs{NotifyURL: rc.srv.URL, NotifyAttempts: 3})
	if _, err := e.in.Insert("change_request", map[string]string{"short_description": "retried"}); err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t, 1)
	if got[0].Table != "change_request" || got[0].Record["number"] == "" {
		t.Fatalf("notification %+v", got[0])
	}
	if err := e.in.WaitNotifications(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := e.in.NotificationStats(); st.Attempts != 3 || st.Delivered != 1 {
		t.Fatalf("stats %+v, want 3 attempts and one delivery", st)
	}
}

func TestNotificationsOffAndSwitchedOn(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	e := newSimEnv(t, snowsim.Knobs{})
	if _, err := e.in.Insert("incident", map[string]string{"short_description": "before"}); err != nil {
		t.Fatal(err)
	}
	if err := e.in.SetNotifyURL(rc.srv.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := e.in.Insert("task", map[string]string{"short_description": "after"}); err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t, 1)
	if err := e.in.WaitNotifications(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Table != "task" || got[0].Record["short_description"] != "after" {
		t.Fatalf("got %+v, want only the write after SetNotifyURL", got)
	}
	if err := e.in.SetNotifyURL("ftp://nope"); err == nil {
		t.Fatal("SetNotifyURL accepted an ftp URL")
	}
}

func TestNotifyCloseCancelsADelayedDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	in, err := snowsim.New(snowsim.Options{Knobs: snowsim.Knobs{NotifyURL: rc.srv.URL, NotifyMaxDelay: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	// A delay below one hour is drawn at random; a few inserts make sure
	// at least one is still held back when Close runs.
	for i := 0; i < 5; i++ {
		if _, err := in.Insert("incident", map[string]string{"short_description": "held back"}); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- in.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a delayed notification")
	}
	// Close waited for the delivery goroutines: nothing is in flight after it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := in.WaitNotifications(ctx); err != nil {
		t.Fatalf("deliveries still running after Close: %v", err)
	}
	if st := in.NotificationStats(); st.Queued != 5 || st.Failed+st.Delivered != 5 || st.Failed == 0 {
		t.Fatalf("stats %+v, want 5 queued and the held-back ones given up", st)
	}
	// Writes after Close queue nothing.
	if _, err := in.Insert("incident", map[string]string{"short_description": "after close"}); err == nil {
		if st := in.NotificationStats(); st.Queued != 5 {
			t.Fatalf("queued after Close: %+v", st)
		}
	}
}
