package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsNamespace prefixes every metric name.
const metricsNamespace = "sello"

// Metrics holds the service's Prometheus metrics. It is registered on the
// registry given to [NewMetrics], never on a global one. Its methods are
// safe for concurrent use, and a nil *Metrics records nothing, so that
// handlers may call it unconditionally when metrics are switched off.
type Metrics struct {
	requests  *prometheus.CounterVec   // route, code
	duration  *prometheus.HistogramVec // route
	inFlight  prometheus.Gauge
	documents *prometheus.CounterVec // status, reason
	signing   prometheus.Histogram
	sizes     prometheus.Histogram
	issued    prometheus.Counter
	refused   *prometheus.CounterVec // reason
}

// NewMetrics creates the metrics and registers them on reg. It panics
// when one of them is already registered there, which is a programming
// error (two Metrics on one registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, body included, by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "documents_total",
			Help: "Documents processed by POST /sign-documents, by status (SUCCESS or FAIL) and errorReason.",
		}, []string{"status", "reason"}),
		signing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "signing_duration_seconds",
			Help:    "Time to sign one document.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		sizes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "document_size_bytes",
			Help: "Size of the documents received for signing.",
			// 16 KiB to 256 MiB, by factors of 4.
			Buckets: prometheus.ExponentialBuckets(16<<10, 4, 8),
		}),
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "tokens_issued_total",
			Help: "Access tokens issued by POST /token.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "tokens_refused_total",
			Help: "Token requests refused by POST /token, by reason.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.documents, m.signing, m.sizes, m.issued, m.refused)
	return m
}

// Middleware counts the requests next answers under the route label, with
// their status code and duration, and the requests in flight. The route is
// a fixed name (the pattern, such as "/sign-documents"), never the request
// path, so that the number of series stays bounded. A nil m returns next.
func (m *Metrics) Middleware(route string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	requests := m.requests.MustCurryWith(prometheus.Labels{"route": route})
	duration := m.duration.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		start := time.Now()
		rec := &metricsRecorder{ResponseWriter: w}
		returned := false
		defer func() {
			status := rec.status
			switch {
			case status == 0 && !returned:
				// A panic before anything was written: the recovery
				// further out answers 500. The panic goes on, with its
				// stack intact.
				status = http.StatusInternalServerError
			case status == 0:
				status = http.StatusOK
			}
			m.inFlight.Dec()
			duration.Observe(time.Since(start).Seconds())
			requests.WithLabelValues(strconv.Itoa(status)).Inc()
		}()
		next.ServeHTTP(rec, r)
		returned = true
	})
}

// metricsRecorder remembers the first status written.
type metricsRecorder struct {
	http.ResponseWriter
	status int
}

func (r *metricsRecorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *metricsRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *metricsRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ObserveDocument records one document of POST /sign-documents: its
// status ("SUCCESS" or "FAIL"), its errorReason ("" on success; the
// reasons are the fixed texts of the signing package), its size in bytes
// and the time spent signing it.
func (m *Metrics) ObserveDocument(status, reason string, size int64, d time.Duration) {
	if m == nil {
		return
	}
	m.documents.WithLabelValues(status, reason).Inc()
	m.sizes.Observe(float64(size))
	m.signing.Observe(d.Seconds())
}

// TokenIssued counts one access token issued.
func (m *Metrics) TokenIssued() {
	if m == nil {
		return
	}
	m.issued.Inc()
}

// TokenRefused counts one refused token request. The reason must come from
// a small fixed set, such as "invalid_client", "invalid_request",
// "rate_limited" or "error", never from the request.
func (m *Metrics) TokenRefused(reason string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues(reason).Inc()
}

// MetricsHandler serves the metrics gathered from g in the Prometheus text
// format (or OpenMetrics when the scraper asks for it), for GET /metrics.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}
