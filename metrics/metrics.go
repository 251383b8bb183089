// Package metrics is the center's Prometheus instrumentation
// (prometheus/client_golang): requests, ServiceNow calls, jobs, sync lag,
// imports and the Go runtime, on a registry of its own that web serves at
// /metrics.
//
// Labels are bounded: routes are ServeMux patterns, never paths; instances
// and connections are the few an admin configured; kinds and outcomes are
// fixed lists in the code.
package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the center's metrics. A nil *Registry records nothing, so
// code can call it unconditionally.
type Registry struct {
	reg        *prometheus.Registry
	requests   *prometheus.HistogramVec
	servicenow *prometheus.HistogramVec
	jobs       *prometheus.HistogramVec
	imports    *prometheus.CounterVec
	importTime *prometheus.HistogramVec
}

// New returns a registry with the Go runtime and process collectors.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scorebridge_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		servicenow: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scorebridge_servicenow_request_duration_seconds",
			Help:    "Calls to ServiceNow by instance, endpoint (the API, not the record) and status code (0 when no answer came).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"instance", "endpoint", "code"}),
		jobs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scorebridge_job_duration_seconds",
			Help:    "Background jobs by kind and outcome, from start to end of one attempt.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind", "outcome"}),
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scorebridge_imports_total",
			Help: "Posture imports by source kind (graph, scubagear, prowler, unknown) and outcome (ok, invalid, failed).",
		}, []string{"kind", "outcome"}),
		importTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scorebridge_import_duration_seconds",
			Help:    "How long posture imports take, from reading the file or connector to the commit, by source kind and outcome.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"kind", "outcome"}),
	}
	r.reg.MustRegister(r.requests, r.servicenow, r.jobs, r.imports, r.importTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one HTTP request answered on route (a ServeMux
// pattern such as "GET /actions/{id}").
func (r *Registry) ObserveRequest(route string, code int, d time.Duration) {
	if r == nil {
		return
	}
	r.requests.WithLabelValues(route, strconv.Itoa(code)).Observe(d.Seconds())
}

// ObserveServiceNowCall records one call to an instance; endpoint names the
// API ("table/incident", "oauth_token"), never a record.
func (r *Registry) ObserveServiceNowCall(instance, endpoint string, code int, d time.Duration) {
	if r == nil {
		return
	}
	r.servicenow.WithLabelValues(instance, endpoint, strconv.Itoa(code)).Observe(d.Seconds())
}

// ObserveJob records one attempt of a background job.
func (r *Registry) ObserveJob(kind, outcome string, d time.Duration) {
	if r == nil {
		return
	}
	r.jobs.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// ObserveImport records one posture import of kind ("graph", "scubagear",
// "prowler", "unknown") with its outcome ("ok", "invalid", "failed") and
// how long it took.
func (r *Registry) ObserveImport(kind, outcome string, d time.Duration) {
	if r == nil {
		return
	}
	r.imports.WithLabelValues(kind, outcome).Inc()
	r.importTime.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// WatchDatabase adds the gauges read from the database at each scrape: the
// job queue's depth by kind and state, each connection's token expiry and
// its sync lag. Each scrape runs three small queries, bounded by a timeout;
// being read from the database, they are the fleet's, whichever replica
// answers.
func (r *Registry) WatchDatabase(db *sql.DB, logger *slog.Logger) {
	r.reg.MustRegister(&dbCollector{db: db, logger: logger})
}

var (
	queueDepthDesc = prometheus.NewDesc("scorebridge_queue_jobs",
		"Jobs in the queue by kind and state (available, scheduled, running, retryable).", []string{"kind", "state"}, nil)
	tokenExpiryDesc = prometheus.NewDesc("scorebridge_connection_token_expiry_seconds",
		"Seconds until each connection's access and refresh tokens expire (negative: expired).", []string{"connection", "instance", "token"}, nil)
	syncLagDesc = prometheus.NewDesc("scorebridge_sync_lag_seconds",
		"How far each connection's ticket sync is behind: now less its watermark, the instance's time a complete sync last read from.", []string{"connection", "instance"}, nil)
)

// dbCollector reads its gauges when scraped, so they are never stale and
// cost nothing between scrapes.
type dbCollector struct {
	db     *sql.DB
	logger *slog.Logger
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- tokenExpiryDesc
	ch <- syncLagDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'running', 'retryable') GROUP BY kind, state`)
	if err != nil {
		c.logger.Warn("metrics: read queue depth", "error", err)
	} else {
		for rows.Next() {
			var kind, state string
			var n float64
			if rows.Scan(&kind, &state, &n) == nil {
				ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, n, kind, state)
			}
		}
		rows.Close()
	}
	c.collectTokenExpiry(ctx, ch)
	c.collectSyncLag(ctx, ch)
}

func (c *dbCollector) collectTokenExpiry(ctx context.Context, ch chan<- prometheus.Metric) {
	rows, err := c.db.QueryContext(ctx, `SELECT id, instance_url, access_token_expires_at, refresh_token_expires_at FROM connections`)
	if err != nil {
		c.logger.Warn("metrics: read token expiry", "error", err)
		return
	}
	defer rows.Close()
	now := time.Now()
	for rows.Next() {
		var id, instance string
		var access, refresh any
		if rows.Scan(&id, &instance, &access, &refresh) != nil {
			continue
		}
		for token, v := range map[string]any{"access": access, "refresh": refresh} {
			if t, ok := asTime(v); ok {
				ch <- prometheus.MustNewConstMetric(tokenExpiryDesc, prometheus.GaugeValue, t.Sub(now).Seconds(), id, instance, token)
			}
		}
	}
}

// watermarkFormat is how the Table API writes sys_updated_on, in UTC.
const watermarkFormat = "2006-01-02 15:04:05"

func (c *dbCollector) collectSyncLag(ctx context.Context, ch chan<- prometheus.Metric) {
	rows, err := c.db.QueryContext(ctx, `SELECT w.connection_id, c.instance_url, w.watermark
		FROM sync_watermarks w JOIN connections c ON c.id = w.connection_id`)
	if err != nil {
		c.logger.Warn("metrics: read sync watermarks", "error", err)
		return
	}
	defer rows.Close()
	now := time.Now()
	for rows.Next() {
		var id, instance, watermark string
		if rows.Scan(&id, &instance, &watermark) != nil {
			continue
		}
		if t, err := time.Parse(watermarkFormat, watermark); err == nil {
			ch <- prometheus.MustNewConstMetric(syncLagDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), id, instance)
		}
	}
}

// asTime reads a timestamp as either back end returns it.
func asTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case []byte:
		t, err := time.Parse(time.RFC3339Nano, string(v))
		return t, err == nil
	}
	return time.Time{}, false
}
