package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// mustGather returns the value of every sample of reg whose name starts
// with "sello_", keyed "name{label=value,...}"; histograms give their
// sample count under name_count.
func mustGather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(labels)
			suffix := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out[f.GetName()+suffix] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[f.GetName()+suffix] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[f.GetName()+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsMiddleware(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	release := make(chan struct{})
	entered := make(chan struct{})
	routes := map[string]http.Handler{
		"/ok": m.Middleware("/ok", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok") // implicit 200
		})),
		"/missing": m.Middleware("/missing", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, msgNotFound)
		})),
		"/panic": recoverPanics(discardLogger(), m.Middleware("/panic", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("boom")
		}))),
		"/slow": m.Middleware("/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			w.WriteHeader(http.StatusAccepted)
		})),
	}
	serve := func(path string) int {
		rec := httptest.NewRecorder()
		routes[path].ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	for range 3 {
		serve("/ok")
	}
	serve("/missing")
	if code := serve("/panic"); code != http.StatusInternalServerError {
		t.Errorf("GET /panic = %d, want 500", code)
	}

	done := make(chan struct{})
	go func() { serve("/slow"); close(done) }()
	<-entered
	if got := mustGather(t, reg)["sello_http_requests_in_flight{}"]; got != 1 {
		t.Errorf("in flight during a request = %v, want 1", got)
	}
	close(release)
	<-done

	got := mustGather(t, reg)
	want := map[string]float64{
		"sello_http_requests_total{code=200,route=/ok}":             3,
		"sello_http_requests_total{code=404,route=/missing}":        1,
		"sello_http_requests_total{code=500,route=/panic}":          1,
		"sello_http_requests_total{code=202,route=/slow}":           1,
		"sello_http_request_duration_seconds_count{route=/ok}":      3,
		"sello_http_request_duration_seconds_count{route=/missing}": 1,
		"sello_http_request_duration_seconds_count{route=/panic}":   1,
		"sello_http_request_duration_seconds_count{route=/slow}":    1,
		"sello_http_requests_in_flight{}":                           0,
		"sello_signing_duration_seconds_count{}":                    0,
		"sello_document_size_bytes_count{}":                         0,
		"sello_tokens_issued_total{}":                               0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestMetricsEvents(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	const reason = "The document is not a PDF file."
	m.ObserveDocument("SUCCESS", "", 100<<10, 20*time.Millisecond)
	m.ObserveDocument("SUCCESS", "", 5<<20, 200*time.Millisecond)
	m.ObserveDocument("FAIL", reason, 10, time.Millisecond)
	m.TokenIssued()
	m.TokenIssued()
	m.TokenRefused("invalid_client")

	got := mustGather(t, reg)
	want := map[string]float64{
		"sello_documents_total{reason=,status=SUCCESS}":                     2,
		fmt.Sprintf("sello_documents_total{reason=%s,status=FAIL}", reason): 1,
		"sello_signing_duration_seconds_count{}":                            3,
		"sello_document_size_bytes_count{}":                                 3,
		"sello_tokens_issued_total{}":                                       2,
		"sello_tokens_refused_total{reason=invalid_client}":                 1,
		"sello_http_requests_in_flight{}":                                   0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestMetricsNil(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.ObserveDocument("SUCCESS", "", 1, time.Second)
	m.TokenIssued()
	m.TokenRefused("invalid_client")
	next := http.NotFoundHandler()
	rec := httptest.NewRecorder()
	m.Middleware("/x", next).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics middleware answered %d, want the handler's 404", rec.Code)
	}
}

func TestMetricsHandler(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.TokenIssued()
	srv := httptest.NewServer(MetricsHandler(reg))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	for _, want := range []string{
		"# TYPE sello_tokens_issued_total counter",
		"sello_tokens_issued_total 1",
		"# TYPE sello_signing_duration_seconds histogram",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
}
