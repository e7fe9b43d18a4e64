package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/auth"
)

// mustStoreClient stores a client with a chosen id and secret, as an
// import tool would.
func mustStoreClient(t testing.TB, env *tokenEnv, id, secret string) {
	t.Helper()
	hash, err := auth.HashSecret(secret, cheapHash, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := &auth.Client{ID: id, Account: "ACME", Projects: []string{"payroll"}, SecretHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := env.db.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
}

// TestTokenSpecificationExample sends the specification's curl request
// byte for byte, with the client it names.
func TestTokenSpecificationExample(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	mustStoreClient(t, env, "your_client_id", "your_client_secret")

	// curl -X 'POST' 'https://example.com/token' -H 'accept: application/json'
	//   -H 'Content-Type: application/x-www-form-urlencoded'
	//   -d 'client_id=your_client_id&client_secret=your_client_secret&grant_type=client_credentials'
	resp, body := env.do(t, "POST", "/token", http.Header{
		"Accept":       {"application/json"},
		"Content-Type": {"application/x-www-form-urlencoded"},
	}, "client_id=your_client_id&client_secret=your_client_secret&grant_type=client_credentials")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d %s, want 200", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Content-Type":  "application/json",
		"Cache-Control": "no-store",
		"Pragma":        "no-cache",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	tok, _ := m["access_token"].(string)
	if len(strings.Split(tok, ".")) != 3 {
		t.Errorf("access_token = %q, want a JWT", tok)
	}
	m["access_token"] = "JWT"
	want := map[string]any{"access_token": "JWT", "token_type": "Bearer", "expires_in": float64(3600)}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestTokenBasicAuth(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	// RFC 6749 §2.3.1: the id and secret are form-urlencoded, then
	// joined by a colon and base64-encoded.
	const id, secret = "basic:client", "s+cr/t:x%20é"
	mustStoreClient(t, env, id, secret)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name       string
		authz      string
		body       string
		wantStatus int
		wantError  string
	}{
		{"encoded", basic(url.QueryEscape(id), url.QueryEscape(secret)), "grant_type=client_credentials", http.StatusOK, ""},
		{"generated secret", basic(env.client.ID, env.secret), "grant_type=client_credentials", http.StatusOK, ""},
		{"matching client_id field", basic(env.client.ID, env.secret), "grant_type=client_credentials&client_id=" + env.client.ID, http.StatusOK, ""},
		{"wrong secret", basic(env.client.ID, "nope"), "grant_type=client_credentials", http.StatusBadRequest, msgInvalidCredentials},
		{"not encoded", basic(id, "s+cr/t:x%20é"), "grant_type=client_credentials", http.StatusBadRequest, msgInvalidCredentials},
		{"bad escape", basic("a%zz", "b"), "grant_type=client_credentials", http.StatusBadRequest, "Malformed Authorization header: client id is not form-urlencoded."},
		{"empty secret", basic(env.client.ID, ""), "grant_type=client_credentials", http.StatusBadRequest, "Missing client_id or client_secret in the Authorization header."},
		{"both methods", basic(env.client.ID, env.secret), form(env.client.ID, env.secret, "client_credentials"), http.StatusBadRequest, "Use one client authentication method: Basic or form fields, not both."},
		{"other client_id field", basic(env.client.ID, env.secret), "grant_type=client_credentials&client_id=someone", http.StatusBadRequest, "The client_id field does not match the Authorization header."},
		{"not base64", "Basic !!!", "grant_type=client_credentials", http.StatusBadRequest, "Malformed Authorization header: use Basic client authentication."},
		{"bearer", "Bearer abc", "grant_type=client_credentials", http.StatusBadRequest, "Malformed Authorization header: use Basic client authentication."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {tt.authz}}
			resp, body := env.do(t, "POST", "/token", h, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorText(t, body); got != tt.wantError {
					t.Errorf("error = %q, want %q", got, tt.wantError)
				}
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{auth: func(o *auth.Options) { o.RateLimit = auth.RateLimit{Burst: 1000} }})
	disabled, disabledSecret, err := env.admin.CreateClient(t.Context(), auth.NewClient{Account: "ACME", Projects: []string{"p"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.admin.SetDisabled(t.Context(), disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	id, secret := env.client.ID, env.secret
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantError   string
	}{
		{"unknown client", "application/x-www-form-urlencoded", form("nobody", secret, "client_credentials"), 400, msgInvalidCredentials},
		{"wrong secret", "application/x-www-form-urlencoded", form(id, secret+"x", "client_credentials"), 400, msgInvalidCredentials},
		{"disabled client", "application/x-www-form-urlencoded", form(disabled.ID, disabledSecret, "client_credentials"), 400, msgInvalidCredentials},
		{"missing client_id", "application/x-www-form-urlencoded", "client_secret=x&grant_type=client_credentials", 400, "Missing client_id."},
		{"missing client_secret", "application/x-www-form-urlencoded", "client_id=x&grant_type=client_credentials", 400, "Missing client_secret."},
		{"missing grant_type", "application/x-www-form-urlencoded", "client_id=x&client_secret=y", 400, "Missing grant_type."},
		{"password grant", "application/x-www-form-urlencoded", form(id, secret, "password"), 400, "Unsupported grant_type: only client_credentials is accepted."},
		{"repeated parameter", "application/x-www-form-urlencoded", form(id, secret, "client_credentials") + "&client_id=other", 400, "Repeated parameter: client_id."},
		{"malformed form", "application/x-www-form-urlencoded", "client_id=%zz", 400, "Malformed form body."},
		{"empty body", "application/x-www-form-urlencoded", "", 400, "Missing client_id."},
		{"no content type", "", form(id, secret, "client_credentials"), 400, "Missing Content-Type: use application/x-www-form-urlencoded."},
		{"JSON", "application/json", `{"client_id":"x"}`, 400, "Unsupported Content-Type: use application/x-www-form-urlencoded."},
		{"multipart", "multipart/form-data; boundary=x", "--x--", 400, "Unsupported Content-Type: use application/x-www-form-urlencoded."},
		{"charset parameter", "application/x-www-form-urlencoded; charset=UTF-8", form(id, secret, "client_credentials"), 200, ""},
		{"too large", "application/x-www-form-urlencoded", "client_id=" + strings.Repeat("a", 70<<10), 413, "Request body too large: the limit is 65536 bytes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			resp, body := env.do(t, "POST", "/token", h, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorText(t, body); got != tt.wantError {
					t.Errorf("error = %q, want %q", got, tt.wantError)
				}
			}
			if strings.Contains(string(body), secret) {
				t.Errorf("response %s echoes the secret", body)
			}
		})
	}
}

func TestTokenRateLimit(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{auth: func(o *auth.Options) {
		o.RateLimit = auth.RateLimit{Burst: 5, Every: 20 * time.Second}
	}})
	for i := range 5 {
		resp, body := env.do(t, "POST", "/token", formHeader, form(env.client.ID, "wrong", "client_credentials"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("failure %d: status = %d %s, want 400", i, resp.StatusCode, body)
		}
	}
	// Even the right secret now waits, for this client id and for this
	// address (any client id).
	for _, id := range []string{env.client.ID, "someone-else"} {
		resp, body := env.do(t, "POST", "/token", formHeader, form(id, env.secret, "client_credentials"))
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: status = %d %s, want 429", id, resp.StatusCode, body)
		}
		if got := errorText(t, body); got != msgRateLimited {
			t.Errorf("error = %q, want %q", got, msgRateLimited)
		}
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 20 {
			t.Errorf("Retry-After = %q, want 1..20 seconds", resp.Header.Get("Retry-After"))
		}
	}
	env.clock.Advance(20 * time.Second)
	if tok := env.mustFetchToken(t, env.client.ID, env.secret); tok == "" {
		t.Errorf("no token after the wait")
	}
}

// raceEnabled reports whether the test binary was built with -race, under
// which argon2id runs about ten times slower.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestTokenConcurrentClients has 200 clients fetch tokens at once, with
// the production argon2id parameters (some seconds of CPU on two cores)
// unless -short or -race.
func TestTokenConcurrentClients(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	const n = 200
	type cred struct{ id, secret string }
	// One secret hashed once keeps the setup cheap; the server still runs
	// one argon2id verification per client, as the cache is per client.
	hash := cheapHash
	if !testing.Short() && !raceEnabled() {
		hash = auth.HashParams{}
	}
	const secret = "shared-secret-of-the-concurrency-test"
	stored, err := auth.HashSecret(secret, hash, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	creds := make([]cred, n)
	for i := range creds {
		now := time.Now()
		c := &auth.Client{ID: "concurrent-" + strconv.Itoa(i), Account: "ACME", Projects: []string{"payroll"},
			SecretHash: stored, CreatedAt: now, UpdatedAt: now}
		if err := env.db.CreateClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		creds[i] = cred{c.ID, secret}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	start := make(chan struct{})
	errs := make([]string, n)
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i, c := range creds {
		wg.Go(func() {
			<-start
			req, err := http.NewRequestWithContext(t.Context(), "POST", env.url+"/token", strings.NewReader(form(c.id, c.secret, "client_credentials")))
			if err != nil {
				errs[i] = err.Error()
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := hc.Do(req)
			if err != nil {
				errs[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var body tokenResponse
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
				errs[i] = "status " + resp.Status
				return
			}
			tokens[i] = body.AccessToken
		})
	}
	close(start)
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("client %d: %s", i, e)
		}
	}
	// Every token works on the protected route.
	for i := 0; i < n; i += 20 {
		h := http.Header{"Authorization": {"Bearer " + tokens[i]}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"payroll"}}
		if resp, body := env.do(t, "POST", "/sign-documents", h, ""); resp.StatusCode != 200 {
			t.Errorf("client %d's token: status %d %s", i, resp.StatusCode, body)
		}
	}
}

// externalOnly is an Authenticator configured to trust only an external
// issuer.
type externalOnly struct{ faultyAuth }

func (externalOnly) Issue(context.Context, auth.Credentials) (*auth.Token, error) {
	return nil, auth.ErrNoLocalTokens
}

func TestTokenEndpointExternalOnly(t *testing.T) {
	t.Parallel()
	srv, err := New(Options{Auth: externalOnly{}, Issuer: "http://sello.test"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/token", strings.NewReader(form("a", "b", "client_credentials")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || errorText(t, rec.Body.Bytes()) != msgNoLocalTokens {
		t.Errorf("POST /token = %d %s, want 400 %q", rec.Code, rec.Body, msgNoLocalTokens)
	}
}
