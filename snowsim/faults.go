package snowsim

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Faults are the failures an instance injects into its REST APIs, for tests
// and demos of how a client copes with a slow or failing ServiceNow. The zero
// value injects nothing.
type Faults struct {
	// Latency is added before every affected request is served.
	Latency time.Duration
	// Jitter adds a further random delay, uniform in [0, Jitter).
	Jitter time.Duration
	// ErrorRate is the fraction (0..1) of affected requests answered with a
	// 500, 502 or 503 instead of being served: a 500 with the platform's JSON
	// error body, a 502 or 503 with the HTML page of the load balancer in
	// front of the instance. Nothing is written.
	ErrorRate float64
	// DropRate is the fraction (0..1) of affected requests that are served
	// and committed, but whose response is never sent: the connection is
	// closed instead. The client cannot tell whether its write happened.
	DropRate float64
	// IncludeOAuth extends the faults to /oauth_token.do. By default only
	// the REST APIs under /api/ are affected, never the login pages.
	IncludeOAuth bool
}

// validate reports a knob outside its range.
func (f Faults) validate() error {
	switch {
	case f.Latency < 0 || f.Jitter < 0:
		return fmt.Errorf("snowsim: latency and jitter must not be negative")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("snowsim: error rate %v is not between 0 and 1", f.ErrorRate)
	case f.DropRate < 0 || f.DropRate > 1:
		return fmt.Errorf("snowsim: drop rate %v is not between 0 and 1", f.DropRate)
	case f.ErrorRate+f.DropRate > 1:
		return fmt.Errorf("snowsim: error rate plus drop rate exceed 1")
	}
	return nil
}

// faultInjector applies Faults. Its random source is seeded so that a test
// sending requests one at a time sees the same faults on every run.
type faultInjector struct {
	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
}

func newFaultInjector(f Faults, seed uint64) *faultInjector {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &faultInjector{faults: f, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// faultPlan is what happens to one request.
type faultPlan struct {
	delay  time.Duration
	status int // 5xx to answer instead of serving; 0 to serve
	drop   bool
}

func (fi *faultInjector) plan(path string) faultPlan {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	f := fi.faults
	affected := strings.HasPrefix(path, "/api/") || (f.IncludeOAuth && path == "/oauth_token.do")
	if !affected {
		return faultPlan{}
	}
	p := faultPlan{delay: f.Latency}
	if f.Jitter > 0 {
		p.delay += time.Duration(fi.rng.Int64N(int64(f.Jitter)))
	}
	// One draw decides between an error, a drop and a normal answer, so the
	// two rates never overlap.
	if f.ErrorRate > 0 || f.DropRate > 0 {
		x := fi.rng.Float64()
		switch {
		case x < f.ErrorRate:
			p.status = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[fi.rng.IntN(3)]
		case x < f.ErrorRate+f.DropRate:
			p.drop = true
		}
	}
	return p
}

// middleware wraps the whole instance with the fault injection.
func (fi *faultInjector) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessionFrom(r.Context()) != nil {
			// An item of a Batch API request: the faults of a network or a
			// load balancer hit the batch as a whole, not its items.
			next.ServeHTTP(w, r)
			return
		}
		p := fi.plan(r.URL.Path)
		if p.delay > 0 {
			bufferBody(r)
			t := time.NewTimer(p.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if p.status != 0 {
			writeFault(w, p.status)
			return
		}
		if !p.drop {
			next.ServeHTTP(w, r)
			return
		}
		// Serve into a buffer so the write is committed, then close the
		// connection without a byte of the answer.
		next.ServeHTTP(&discardWriter{header: http.Header{}}, r)
		dropConnection(w)
	})
}

// bufferBody reads the start of the request body into memory before a
// delay, as a load balancer does. Only once the body is read does net/http
// watch the connection, so a client that gives up during the delay cancels
// the request instead of having it served after it left.
func bufferBody(r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, bufferedBodyLimit))
	if err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(buf), errReader{err}))
		return
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
}

// bufferedBodyLimit is one byte more than the largest REST payload an
// instance accepts, so the payload size check still sees an oversized body.
const bufferedBodyLimit = 10<<20 + 1

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// dropConnection closes the client's connection without answering. Over
// HTTP/1 it hijacks and closes the socket; where hijacking is impossible
// (HTTP/2) it aborts the handler, which resets the stream.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// discardWriter is a ResponseWriter that keeps nothing: the answer of a
// request whose response is dropped.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// writeFault answers like the part of a real deployment that fails: the
// instance itself (500, JSON error envelope) or the load balancer in front
// of it (502, 503, HTML page).
func writeFault(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusInternalServerError:
		writeJSON(w, status, &APIError{Status: status, Message: "Internal server error", Detail: "Transaction failed"})
	default:
		title := http.StatusText(status)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%s</h1><p>The instance is not available right now. Try again later.</p></body></html>\n", status, title, title)
	}
}

// SetFaults changes the injected faults; it is safe while serving.
func (in *Instance) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	in.ext.faults.mu.Lock()
	defer in.ext.faults.mu.Unlock()
	in.ext.faults.faults = f
	return nil
}

// Faults returns the faults currently injected.
func (in *Instance) Faults() Faults {
	in.ext.faults.mu.Lock()
	defer in.ext.faults.mu.Unlock()
	return in.ext.faults.faults
}
