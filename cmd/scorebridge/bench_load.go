package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadGen sends requests to the center from a number of clients at once.
type loadGen struct {
	base, token string
	clients     int
	hc          *http.Client
}

func newLoadGen(base, token string, clients int) *loadGen {
	return &loadGen{base: base, token: token, clients: clients, hc: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true},
		Timeout:   time.Minute,
	}}
}

// get fetches path once and returns the body's size.
func (lg *loadGen) get(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lg.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+lg.token)
	resp, err := lg.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s = %d", path, resp.StatusCode)
	}
	return int(n), nil
}

// count fetches a list and returns how many items it holds.
func (lg *loadGen) count(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lg.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+lg.token)
	resp, err := lg.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var list struct{ Items []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	return len(list.Items), nil
}

func (lg *loadGen) post(ctx context.Context, path string, body any, want int) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lg.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+lg.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := lg.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s = %d, want %d: %s", path, resp.StatusCode, want, data)
	}
	return nil
}

// loadFigures are one measure: the latencies' median and p99 and the
// requests answered per second.
type loadFigures struct {
	median, p99 time.Duration
	perSecond   float64
}

func (f loadFigures) String() string {
	return fmt.Sprintf("median %s, p99 %s, %.0f req/s", roundLatency(f.median), roundLatency(f.p99), f.perSecond)
}

func roundLatency(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

// load sends n requests for path from lg.clients clients at once.
func (lg *loadGen) load(ctx context.Context, path string, n int) (loadFigures, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for range lg.clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if _, err := lg.get(ctx, path); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	if firstErr != nil {
		return loadFigures{}, firstErr
	}
	slices.Sort(lat)
	return loadFigures{median: lat[n/2], p99: lat[min(n-1, n*99/100)], perSecond: float64(n) / elapsed.Seconds()}, nil
}

// compare measures path, then a static body of the same size served by the
// same server under the same load, and formats both with their ratios.
func (lg *loadGen) compare(ctx context.Context, static *staticReference, path string, n int) (string, error) {
	size, err := lg.get(ctx, path)
	if err != nil {
		return "", err
	}
	static.setSize(size)
	// Warm both up: connections, caches, the template's first run.
	for _, p := range []string{path, staticPath} {
		if _, err := lg.load(ctx, p, min(n, 2*lg.clients)); err != nil {
			return "", err
		}
	}
	page, err := lg.load(ctx, path, n)
	if err != nil {
		return "", err
	}
	ref, err := lg.load(ctx, staticPath, n)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s; static file of the same size (%d bytes): %s; page/static: median %s, p99 %s, throughput %s (bound 3x)",
		page, size, ref, ratio(page.median, ref.median), ratio(page.p99, ref.p99), throughputRatio(ref.perSecond, page.perSecond)), nil
}

func throughputRatio(ref, page float64) string {
	if page <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("1/%.1f", ref/page)
}

// resetPeakRSS starts the process's peak resident size (VmHWM) afresh, so
// each back end's run reports its own (Linux: clear_refs 5).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads the process's peak resident size (VmHWM), in bytes.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read VmHWM %q: %w", v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
