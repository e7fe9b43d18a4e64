package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"sello/internal/auth"
	"sello/internal/clocktest"
	"sello/internal/store/sqlite"
)

// cheapHash keeps argon2id fast in tests that do not measure it.
var cheapHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1}

// tokenEnv is the service wired as in production (SQLite store in a temp
// data directory, auth.Service, Server) on a loopback port, with a
// recording handler behind the token check.
type tokenEnv struct {
	srv    *httptest.Server
	url    string
	db     *sqlite.DB
	admin  *auth.Admin
	clock  *clocktest.Clock
	client *auth.Client // ACME, projects hr and payroll
	secret string

	mu        sync.Mutex
	principal *auth.Principal // what the protected handler last saw
}

type tokenEnvOptions struct {
	auth    func(*auth.Options)
	noSign  bool                 // leave Options.SignDocuments nil
	metrics *prometheus.Registry // wire Options.Metrics and /metrics
}

func mustTokenEnv(t testing.TB, o tokenEnvOptions) *tokenEnv {
	t.Helper()
	hash := cheapHash
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sello.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	master := make([]byte, auth.MasterKeySize)
	rand.Read(master)
	env := &tokenEnv{db: db, clock: clocktest.New(time.Now().Truncate(time.Second))}
	env.srv = httptest.NewUnstartedServer(nil)
	env.url = "http://" + env.srv.Listener.Addr().String()

	opts := auth.Options{Clients: db, Keys: db, MasterKey: master, Issuer: env.url, Hash: hash, Now: env.clock.Now}
	if o.auth != nil {
		o.auth(&opts)
	}
	svc, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	env.admin, err = auth.NewAdmin(auth.AdminOptions{Clients: db, Keys: db, MasterKey: master, Hash: hash, Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	env.client, env.secret, err = env.admin.CreateClient(t.Context(), auth.NewClient{Account: "ACME", Projects: []string{"payroll", "hr"}})
	if err != nil {
		t.Fatal(err)
	}
	sopts := Options{Auth: svc, Issuer: env.url}
	if o.metrics != nil {
		sopts.Metrics = NewMetrics(o.metrics)
		sopts.MetricsHandler = MetricsHandler(o.metrics)
	}
	if !o.noSign {
		sopts.SignDocuments = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := auth.ClientFrom(r.Context())
			if !ok {
				t.Errorf("protected handler: no principal in the context")
			}
			env.mu.Lock()
			env.principal = p
			env.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]string{"request_id": RequestID(r.Context())})
		})
	}
	handler, err := New(sopts)
	if err != nil {
		t.Fatal(err)
	}
	env.srv.Config.Handler = handler
	env.srv.Start()
	t.Cleanup(env.srv.Close)
	return env
}

// do sends a request and returns the response with its body read.
func (env *tokenEnv) do(t testing.TB, method, path string, header http.Header, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, env.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := env.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// form is the body of a token request.
func form(id, secret, grant string) string {
	return url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {grant}}.Encode()
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// mustFetchToken gets a token for id and secret.
func (env *tokenEnv) mustFetchToken(t testing.TB, id, secret string) string {
	t.Helper()
	resp, body := env.do(t, http.MethodPost, "/token", formHeader, form(id, secret, "client_credentials"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /token = %d %s, want 200", resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken
}

// errorText decodes {"error": ...} and fails unless that is the whole body.
func errorText(t testing.TB, b []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("error body %q is not JSON: %v", b, err)
	}
	s, ok := m["error"].(string)
	if !ok || len(m) != 1 {
		t.Fatalf("error body %s, want exactly one string field \"error\"", b)
	}
	return s
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{noSign: true})
	tok := env.mustFetchToken(t, env.client.ID, env.secret)
	authorized := http.Header{"Authorization": {"Bearer " + tok}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"payroll"}}
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		wantStatus int
		wantError  string
		wantAllow  string
	}{
		{"unknown path", http.MethodGet, "/nope", nil, http.StatusNotFound, msgNotFound, ""},
		{"GET /token", http.MethodGet, "/token", nil, http.StatusMethodNotAllowed, msgMethodNotAllowed, "POST"},
		{"GET /sign-documents", http.MethodGet, "/sign-documents", nil, http.StatusMethodNotAllowed, msgMethodNotAllowed, "POST"},
		{"POST discovery", http.MethodPost, "/.well-known/openid-configuration", nil, http.StatusMethodNotAllowed, msgMethodNotAllowed, "GET, HEAD"},
		{"signing not configured", http.MethodPost, "/sign-documents", authorized, http.StatusServiceUnavailable, msgUnavailable, ""},
		{"signing not configured, no token", http.MethodPost, "/sign-documents", nil, http.StatusUnauthorized, msgInvalidToken, ""},
		{"health", http.MethodGet, "/healthz", nil, http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := env.do(t, tt.method, tt.path, tt.header, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorText(t, body); got != tt.wantError {
					t.Errorf("error = %q, want %q", got, tt.wantError)
				}
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	tok := env.mustFetchToken(t, env.client.ID, env.secret)
	tests := []struct {
		name     string
		incoming string
		wantSame bool
	}{
		{"none", "", false},
		{"sane", "req-123_abc.def:9", true},
		{"too long", strings.Repeat("a", 129), false},
		{"spaces", "a b", false},
		{"header injection", "a\u00e9b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Authorization": {"Bearer " + tok}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"payroll"}}
			if tt.incoming != "" {
				h.Set("X-Request-Id", tt.incoming)
			}
			resp, body := env.do(t, http.MethodPost, "/sign-documents", h, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d %s", resp.StatusCode, body)
			}
			got := resp.Header.Get("X-Request-Id")
			if (got == tt.incoming) != tt.wantSame || got == "" {
				t.Errorf("X-Request-Id = %q for incoming %q, want reused: %v", got, tt.incoming, tt.wantSame)
			}
			// The handler saw the same id through RequestID.
			var seen map[string]string
			if err := json.Unmarshal(body, &seen); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, seen["request_id"]); diff != "" {
				t.Errorf("RequestID in the handler (-header +context):\n%s", diff)
			}
		})
	}
}

func TestRecoverPanics(t *testing.T) {
	t.Parallel()
	h := withRequestID(recoverPanics(discardLogger(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if got := errorText(t, rec.Body.Bytes()); got != msgInternal {
		t.Errorf("error = %q, want %q", got, msgInternal)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestServerMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	env := mustTokenEnv(t, tokenEnvOptions{metrics: reg})
	env.mustFetchToken(t, env.client.ID, env.secret)
	env.do(t, http.MethodPost, "/token", formHeader, form(env.client.ID, "wrong", "client_credentials"))
	env.do(t, http.MethodPost, "/token", formHeader, "grant_type=client_credentials")
	env.do(t, http.MethodGet, "/nope", nil, "")
	got := mustGather(t, reg)
	for k, want := range map[string]float64{
		"sello_tokens_issued_total{}":                        1,
		"sello_tokens_refused_total{reason=invalid_client}":  1,
		"sello_tokens_refused_total{reason=invalid_request}": 1,
		"sello_http_requests_total{code=200,route=/token}":   1,
		"sello_http_requests_total{code=400,route=/token}":   2,
		"sello_http_requests_total{code=404,route=other}":    1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	resp, body := env.do(t, http.MethodGet, "/metrics", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "sello_tokens_issued_total 1") {
		t.Errorf("GET /metrics = %d, want 200 with sello_tokens_issued_total 1", resp.StatusCode)
	}
}
