package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sello/internal/auth"
)

// noAuth refuses every credential and token; the readiness and drain
// routes do not need any.
type noAuth struct{}

func (noAuth) Issue(context.Context, auth.Credentials) (*auth.Token, error) {
	return nil, auth.ErrInvalidCredentials
}

func (noAuth) Authorize(context.Context, string, string, string) (*auth.Principal, error) {
	return nil, auth.ErrInvalidToken
}

func (noAuth) JWKS(context.Context) (auth.JWKS, error) { return auth.JWKS{}, nil }

func TestReadyz(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	for _, tc := range []struct {
		name       string
		checks     []ReadyCheck
		wantStatus int
		wantBody   string
	}{
		{"no checks", nil, http.StatusOK, `"ready"`},
		{"all pass", []ReadyCheck{{"store", ok}, {"TSA", ok}}, http.StatusOK, `"ready"`},
		{"one fails", []ReadyCheck{{"store", ok}, {"TSA", down}}, http.StatusServiceUnavailable, `Not ready: TSA unavailable.`},
		{"two fail", []ReadyCheck{{"store", down}, {"seal key", down}}, http.StatusServiceUnavailable, `Not ready: store, seal key unavailable.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := New(Options{Auth: noAuth{}, Issuer: "http://sello.test", Ready: tc.checks, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("GET /readyz = %d %s, want %d with %s", rec.Code, rec.Body, tc.wantStatus, tc.wantBody)
			}
			if rec.Header().Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

// TestDrain checks that a draining server answers new requests with 503
// and Retry-After, in the API's error format.
func TestDrain(t *testing.T) {
	t.Parallel()
	srv, err := New(Options{Auth: noAuth{}, Issuer: "http://sello.test", Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /healthz before Drain = %d", rec.Code)
	}
	srv.Drain()
	for _, path := range []string{"/healthz", "/sign-documents", "/token"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || errorText(t, rec.Body.Bytes()) != msgShuttingDown {
			t.Errorf("%s while draining = %d %q (Retry-After %q), want 503 %q", path, rec.Code, rec.Body, rec.Header().Get("Retry-After"), msgShuttingDown)
		}
	}
}
