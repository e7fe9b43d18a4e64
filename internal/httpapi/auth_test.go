package httpapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"sello/internal/auth"
)

// mustForeignService returns a token service over env's store (same keys
// and clients) that differs from the server's by mod: a wrong issuer, say.
func mustForeignService(t *testing.T, env *tokenEnv, master []byte, mod func(*auth.Options)) *auth.Service {
	t.Helper()
	opts := auth.Options{Clients: env.db, Keys: env.db, MasterKey: master, Issuer: env.url, Hash: cheapHash, Now: env.clock.Now}
	mod(&opts)
	svc, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestProtectedRoute(t *testing.T) {
	t.Parallel()
	master := make([]byte, auth.MasterKeySize)
	rand.Read(master)
	env := mustTokenEnv(t, tokenEnvOptions{auth: func(o *auth.Options) { o.MasterKey = master }})
	good := env.mustFetchToken(t, env.client.ID, env.secret)

	issueWith := func(mod func(*auth.Options)) string {
		svc := mustForeignService(t, env, master, mod)
		tok, err := svc.Issue(t.Context(), auth.Credentials{ClientID: env.client.ID, Secret: env.secret, RemoteAddr: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	keys, err := env.db.TokenKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kid, pubDER := keys[0].ID, keys[0].PublicKey
	claims := jwt.MapClaims{
		"iss": env.url, "sub": env.client.ID, "aud": "sello", "account": "ACME", "projects": []string{"payroll"},
		"iat": env.clock.Now().Unix(), "nbf": env.clock.Now().Unix(), "exp": env.clock.Now().Add(time.Hour).Unix(), "jti": "j",
	}
	forge := func(m jwt.SigningMethod, key any, kid string) string {
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")

	const (
		invalid = `Bearer realm="sello", error="invalid_token"`
		expired = `Bearer realm="sello", error="invalid_token", error_description="The access token expired"`
		scope   = `Bearer realm="sello", error="insufficient_scope"`
	)
	tests := []struct {
		name          string
		authz         []string // Authorization header values
		account       string
		project       string
		wantStatus    int
		wantError     string
		wantChallenge string
	}{
		{"valid", []string{"Bearer " + good}, "ACME", "payroll", 200, "", ""},
		{"valid, lower-case scheme", []string{"bearer " + good}, "ACME", "hr", 200, "", ""},
		{"no token", nil, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"empty bearer", []string{"Bearer "}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"basic scheme", []string{"Basic " + good}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"malformed", []string{"Bearer not-a-jwt"}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"bad signature", []string{"Bearer " + parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"wrong issuer", []string{"Bearer " + issueWith(func(o *auth.Options) { o.Issuer = "http://evil.test" })}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"wrong audience", []string{"Bearer " + issueWith(func(o *auth.Options) { o.Audience = "other" })}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"alg none", []string{"Bearer " + forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid)}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"HS256 keyed with the public key", []string{"Bearer " + forge(jwt.SigningMethodHS256, pubDER, kid)}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"unknown kid", []string{"Bearer " + forge(jwt.SigningMethodES256, stranger, "not-ours")}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"our kid, stranger's key", []string{"Bearer " + forge(jwt.SigningMethodES256, stranger, kid)}, "ACME", "payroll", 401, msgInvalidToken, invalid},
		{"expired", []string{"Bearer " + issueWith(func(o *auth.Options) {
			o.Now = func() time.Time { return env.clock.Now().Add(-2 * time.Hour) }
		})}, "ACME", "payroll", 403, msgTokenExpired, expired},
		{"no account", []string{"Bearer " + good}, "", "payroll", 403, msgAccountMissing, scope},
		{"other account", []string{"Bearer " + good}, "OTHER", "payroll", 403, msgAccountMismatch, scope},
		{"no project", []string{"Bearer " + good}, "ACME", "", 403, msgProjectMissing, scope},
		{"other project", []string{"Bearer " + good}, "ACME", "legal", 403, msgProjectMismatch, scope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.authz != nil {
				h["Authorization"] = tt.authz
			}
			if tt.account != "" {
				h.Set("X-Account-Id", tt.account)
			}
			if tt.project != "" {
				h.Set("X-Project-Id", tt.project)
			}
			resp, body := env.do(t, http.MethodPost, "/sign-documents", h, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorText(t, body); got != tt.wantError {
					t.Errorf("error = %q, want %q", got, tt.wantError)
				}
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
		})
	}
}

func TestProtectedRoutePrincipal(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	tok := env.mustFetchToken(t, env.client.ID, env.secret)
	h := http.Header{"Authorization": {"Bearer " + tok}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"hr"}}
	if resp, body := env.do(t, http.MethodPost, "/sign-documents", h, ""); resp.StatusCode != 200 {
		t.Fatalf("status = %d %s", resp.StatusCode, body)
	}
	env.mu.Lock()
	got := env.principal
	env.mu.Unlock()
	if got == nil {
		t.Fatal("the handler saw no principal")
	}
	want := &auth.Principal{ClientID: env.client.ID, Account: "ACME", Project: "hr", TokenID: got.TokenID}
	if diff := cmp.Diff(want, got); diff != "" || got.TokenID == "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
}

func TestTokenExpiryWithClock(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	tok := env.mustFetchToken(t, env.client.ID, env.secret)
	h := http.Header{"Authorization": {"Bearer " + tok}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"payroll"}}
	steps := []struct {
		name       string
		advance    time.Duration
		wantStatus int
	}{
		{"fresh", 0, 200},
		{"at expiry", time.Hour, 200},
		{"within leeway", auth.DefaultLeeway - time.Second, 200},
		{"past leeway", 2 * time.Second, 403},
	}
	for _, s := range steps { // sequential: each step moves the clock on
		env.clock.Advance(s.advance)
		resp, body := env.do(t, http.MethodPost, "/sign-documents", h, "")
		if resp.StatusCode != s.wantStatus {
			t.Fatalf("%s: status = %d %s, want %d", s.name, resp.StatusCode, body, s.wantStatus)
		}
		if s.wantStatus == 403 {
			if got := errorText(t, body); got != msgTokenExpired {
				t.Errorf("%s: error = %q, want %q", s.name, got, msgTokenExpired)
			}
		}
	}
}

func TestDisabledClient(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	tok := env.mustFetchToken(t, env.client.ID, env.secret)
	h := http.Header{"Authorization": {"Bearer " + tok}, "X-Account-Id": {"ACME"}, "X-Project-Id": {"payroll"}}
	if resp, body := env.do(t, http.MethodPost, "/sign-documents", h, ""); resp.StatusCode != 200 {
		t.Fatalf("before disabling: status = %d %s", resp.StatusCode, body)
	}
	if _, err := env.admin.SetDisabled(t.Context(), env.client.ID, true); err != nil {
		t.Fatal(err)
	}
	// No new token at once.
	resp, body := env.do(t, http.MethodPost, "/token", formHeader, form(env.client.ID, env.secret, "client_credentials"))
	if resp.StatusCode != 400 || errorText(t, body) != msgInvalidCredentials {
		t.Errorf("token for a disabled client: %d %s, want 400 %q", resp.StatusCode, body, msgInvalidCredentials)
	}
	// Live tokens stop within the documented bound.
	env.clock.Advance(auth.DefaultStatusCacheTTL)
	resp, body = env.do(t, http.MethodPost, "/sign-documents", h, "")
	if resp.StatusCode != 401 || errorText(t, body) != msgInvalidToken {
		t.Errorf("live token of a disabled client: %d %s, want 401 %q", resp.StatusCode, body, msgInvalidToken)
	}
	if _, err := env.admin.SetDisabled(t.Context(), env.client.ID, false); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(auth.DefaultStatusCacheTTL)
	if resp, body := env.do(t, http.MethodPost, "/sign-documents", h, ""); resp.StatusCode != 200 {
		t.Errorf("after enabling again: status = %d %s", resp.StatusCode, body)
	}
}

// failingBody fails the test if the handler chain reads it.
type failingBody struct{ t *testing.T }

func (b failingBody) Read([]byte) (int, error) {
	b.t.Error("the request body was read before the token was checked")
	return 0, http.ErrBodyNotAllowed
}

func TestTokenCheckedBeforeBody(t *testing.T) {
	t.Parallel()
	env := mustTokenEnv(t, tokenEnvOptions{})
	handler := env.srv.Config.Handler
	for _, authz := range []string{"", "Bearer nope"} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/sign-documents", failingBody{t})
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status = %d, want 401", authz, rec.Code)
		}
	}
}

// faultyAuth fails every call as a service whose store is down would.
type faultyAuth struct{}

var errStoreDown = errors.New("store down")

func (faultyAuth) Issue(context.Context, auth.Credentials) (*auth.Token, error) {
	return nil, errStoreDown
}

func (faultyAuth) Authorize(context.Context, string, string, string) (*auth.Principal, error) {
	return nil, errStoreDown
}

func (faultyAuth) JWKS(context.Context) (auth.JWKS, error) { return auth.JWKS{}, errStoreDown }

func TestServiceFaults(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))
	srv, err := New(Options{Auth: faultyAuth{}, Issuer: "http://sello.test", Logger: log,
		SignDocuments: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler reached") })})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, contentType, body string
		header                                string
		wantError                             string
	}{
		{"token", "POST", "/token", "application/x-www-form-urlencoded", form("id", "s3cret", "client_credentials"), "", msgInternal},
		{"sign-documents", "POST", "/sign-documents", "", "", "Bearer abc", msgSignFault},
		{"jwks", "GET", "/.well-known/jwks.json", "", "", "", msgInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status = %d %s, want 500", rec.Code, rec.Body)
			}
			if got := errorText(t, rec.Body.Bytes()); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			id := rec.Header().Get("X-Request-Id")
			mu.Lock()
			logged := logs.String()
			mu.Unlock()
			if !strings.Contains(logged, `"request_id":"`+id+`"`) || !strings.Contains(logged, "store down") {
				t.Errorf("the fault was not logged with request id %s: %s", id, logged)
			}
			if strings.Contains(logged, "s3cret") {
				t.Errorf("the log contains the secret")
			}
		})
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
