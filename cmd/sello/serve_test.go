package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sello/internal/config"
)

// syncBuffer is a bytes.Buffer safe to write from the server goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe runs serve on a loopback port, administers clients from the
// CLI while it runs on the same data directory, fetches a token, and
// shuts it down.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, logs syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg := mustServeConfig(t, "-addr=127.0.0.1:0", "-data-dir="+dir, "-token-ttl=90s", "-token-leeway=5s")
	go func() { done <- serve(ctx, cfg, &stdout, slog.New(slog.NewJSONHandler(&logs, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve = %v before listening", err)
	}
	for _, want := range []string{"listening on http://" + addr, "data directory " + dir, "sello clients create --data-dir " + dir} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("serve printed %q, want it to mention %q", stdout.String(), want)
		}
	}

	created := mustRunJSON[map[string]string](t, "clients", "create", "--data-dir", dir, "--account", "ACME", "--project", "payroll", "--json")
	resp, err := http.PostForm("http://"+addr+"/token", url.Values{
		"client_id": {created["client_id"]}, "client_secret": {created["client_secret"]}, "grant_type": {"client_credentials"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /token = %d, %v", resp.StatusCode, err)
	}
	if tok["expires_in"] != float64(90) || tok["token_type"] != "Bearer" {
		t.Errorf("token response = %v, want Bearer expiring in 90 s (--token-ttl)", tok)
	}

	resp, err = http.Get("http://" + addr + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || doc["issuer"] != "http://"+addr {
		t.Errorf("discovery issuer = %v (%v), want http://%s", doc["issuer"], err, addr)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if strings.Contains(logs.String(), created["client_secret"]) {
		t.Errorf("the log contains the client secret")
	}
}

func TestServeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"short ttl", []string{"--token-ttl", "10ms"}, "token.ttl (flag -token-ttl): must be at least 1s"},
		{"negative leeway", []string{"--token-leeway", "-1s"}, "must not be negative"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"external only without an issuer", []string{"--no-local-tokens"}, "no-local-tokens (flag -no-local-tokens): needs oidc.issuer"},
		{"every problem at once", []string{"--token-ttl", "10ms", "--sign-max-documents", "0"}, "2 problems:\n  token.ttl (flag -token-ttl): must be at least 1s\n  sign.max-documents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCmd(t, append([]string{"serve", "--data-dir", t.TempDir()}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("serve %v = exit %d, stderr %q; want exit 2 mentioning %q", tt.args, code, stderr, tt.wantStderr)
			}
		})
	}
}

// mustServeConfig loads the configuration of serve from flags alone, with
// no environment.
func mustServeConfig(t *testing.T, args ...string) *config.Config {
	t.Helper()
	cfg, err := config.Load(args, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config.Load(%q): %v", args, err)
	}
	return cfg
}
