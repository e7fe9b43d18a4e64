package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"sello/internal/clocktest"
)

const testIssuer = "https://sello.test"

var testMaster = []byte("0123456789abcdef0123456789abcdef")

// fixture is a Service over a memStore with a fake clock and one client.
type fixture struct {
	store  *memStore
	clock  *clocktest.Clock
	svc    *Service
	admin  *Admin
	client *Client
	secret string
}

func newFixture(t testing.TB, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{store: newMemStore(), clock: newFakeClock()}
	opts := Options{
		Clients: f.store, Keys: f.store, MasterKey: testMaster, Issuer: testIssuer,
		Hash: testHashParams, Now: f.clock.Now,
	}
	if mod != nil {
		mod(&opts)
	}
	var err error
	if f.svc, err = New(opts); err != nil {
		t.Fatalf("New = %v", err)
	}
	if err := f.svc.EnsureKey(t.Context()); err != nil {
		t.Fatalf("EnsureKey = %v", err)
	}
	f.admin, err = NewAdmin(AdminOptions{Clients: f.store, Keys: f.store, MasterKey: testMaster, Hash: testHashParams, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.client, f.secret, err = f.admin.CreateClient(t.Context(), NewClient{Account: "ACME", Projects: []string{"payroll", "hr"}})
	if err != nil {
		t.Fatalf("CreateClient = %v", err)
	}
	return f
}

func (f *fixture) mustIssue(t *testing.T) *Token {
	t.Helper()
	tok, err := f.svc.Issue(t.Context(), Credentials{ClientID: f.client.ID, Secret: f.secret, RemoteAddr: "192.0.2.1"})
	if err != nil {
		t.Fatalf("Issue = %v", err)
	}
	return tok
}

// signingKey returns the newest stored key, decrypted.
func (f *fixture) signingKey(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	aead, err := newAEAD(testMaster)
	if err != nil {
		t.Fatal(err)
	}
	k := f.store.keys[len(f.store.keys)-1]
	priv, err := openTokenKey(aead, k)
	if err != nil {
		t.Fatal(err)
	}
	return priv, k.ID
}

func TestIssueAndVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.mustIssue(t)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != time.Hour {
		t.Errorf("Issue = type %q, expires in %s; want Bearer, 1h", tok.TokenType, tok.ExpiresIn)
	}
	claims, err := f.svc.Verify(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	now := f.clock.Now()
	want := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: testIssuer, Subject: f.client.ID, Audience: jwt.ClaimStrings{DefaultAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), ID: tok.ID,
		},
		Account: "ACME", Projects: []string{"hr", "payroll"},
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("Verify claims (-want +got):\n%s", diff)
	}
	// The header names the key and the token type (RFC 9068).
	parsed, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, &Claims{})
	if err != nil {
		t.Fatal(err)
	}
	_, kid := f.signingKey(t)
	wantHeader := map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"}
	if diff := cmp.Diff(wantHeader, parsed.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

func TestIssueRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	disabled, disabledSecret, err := f.admin.CreateClient(t.Context(), NewClient{Account: "ACME", Projects: []string{"p"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.SetDisabled(t.Context(), disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cr   Credentials
	}{
		{"unknown client", Credentials{ClientID: "nobody", Secret: f.secret}},
		{"wrong secret", Credentials{ClientID: f.client.ID, Secret: f.secret + "x"}},
		{"empty secret", Credentials{ClientID: f.client.ID}},
		{"disabled client", Credentials{ClientID: disabled.ID, Secret: disabledSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cr.RemoteAddr = "198.51.100." + tt.name // one limiter bucket each
			if _, err := f.svc.Issue(t.Context(), tt.cr); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("Issue(%s) = %v, want ErrInvalidCredentials", tt.name, err)
			}
		})
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.mustIssue(t) // caches the verification of the old secret
	_, newSecret, err := f.admin.RotateSecret(t.Context(), f.client.ID)
	if err != nil {
		t.Fatalf("RotateSecret = %v", err)
	}
	if _, err := f.svc.Issue(t.Context(), Credentials{ClientID: f.client.ID, Secret: f.secret}); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Issue(old secret) = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.svc.Issue(t.Context(), Credentials{ClientID: f.client.ID, Secret: newSecret}); err != nil {
		t.Errorf("Issue(new secret) = %v", err)
	}
	if _, _, err := f.admin.RotateSecret(t.Context(), "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RotateSecret(nobody) = %v, want ErrNotFound", err)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.RateLimit = RateLimit{Burst: 3, Every: 10 * time.Second} })
	issue := func(id, secret, addr string) error {
		_, err := f.svc.Issue(t.Context(), Credentials{ClientID: id, Secret: secret, RemoteAddr: addr})
		return err
	}
	// Per client id: three failures from three addresses, then even the
	// right secret waits.
	for i := range 3 {
		if err := issue(f.client.ID, "wrong", "10.0.0."+string(rune('1'+i))); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: Issue = %v, want ErrInvalidCredentials", i, err)
		}
	}
	var rl *RateLimitError
	if err := issue(f.client.ID, f.secret, "10.0.0.9"); !errors.As(err, &rl) {
		t.Fatalf("Issue after 3 failures = %v, want *RateLimitError", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > 10*time.Second {
		t.Errorf("RetryAfter = %s, want in (0, 10s]", rl.RetryAfter)
	}
	f.clock.Advance(rl.RetryAfter)
	if err := issue(f.client.ID, f.secret, "10.0.0.9"); err != nil {
		t.Errorf("Issue after RetryAfter = %v, want success", err)
	}

	// Per remote address: failures with many client ids.
	for i := range 3 {
		if err := issue("unknown-"+string(rune('a'+i)), "x", "203.0.113.7"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: Issue = %v, want ErrInvalidCredentials", i, err)
		}
	}
	if err := issue("unknown-z", "x", "203.0.113.7"); !errors.As(err, &rl) {
		t.Errorf("Issue from a failing address = %v, want *RateLimitError", err)
	}
	if err := issue(f.client.ID, f.secret, "203.0.113.8"); err != nil {
		t.Errorf("Issue from another address = %v, want success", err)
	}
}

func TestFailureLimiterBounded(t *testing.T) {
	t.Parallel()
	l := newFailureLimiter(RateLimit{Burst: 2, Every: time.Second})
	l.max = 100
	now := time.Now()
	for i := range 1000 {
		l.fail(strings.Repeat("k", i%7)+string(rune(i)), now)
	}
	if n := l.size(); n > 100 {
		t.Errorf("limiter holds %d keys, want at most 100", n)
	}
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.mustIssue(t)
	tests := []struct {
		name    string
		advance time.Duration // from issuance
		wantErr error
	}{
		{"fresh", 0, nil},
		{"just before expiry", time.Hour - time.Second, nil},
		{"expired within leeway", time.Hour + DefaultLeeway - time.Second, nil},
		{"expired past leeway", time.Hour + DefaultLeeway + time.Second, ErrTokenExpired},
		{"long expired", 48 * time.Hour, ErrTokenExpired},
		{"issued in the future within leeway", -DefaultLeeway + time.Second, nil},
		{"issued in the future past leeway", -DefaultLeeway - time.Second, ErrInvalidToken},
	}
	issued := f.clock.Now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, err := New(Options{
				Clients: f.store, Keys: f.store, MasterKey: testMaster, Issuer: testIssuer,
				Hash: testHashParams, Now: func() time.Time { return issued.Add(tt.advance) },
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Verify(t.Context(), tok.AccessToken)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Verify at issue%+v = %v, want %v", tt.advance, err, tt.wantErr)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	priv, kid := f.signingKey(t)
	now := f.clock.Now()
	good := func() Claims {
		return Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: testIssuer, Subject: f.client.ID, Audience: jwt.ClaimStrings{DefaultAudience},
				IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), ID: "jti-1",
			},
			Account: "ACME", Projects: []string{"payroll"},
		}
	}
	sign := func(t *testing.T, m jwt.SigningMethod, key any, kid string, c Claims) string {
		t.Helper()
		tok := jwt.NewWithClaims(m, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	with := func(mod func(*Claims)) Claims { c := good(); mod(&c); return c }

	// The control: the good claims, signed properly, verify.
	if _, err := f.svc.Verify(t.Context(), sign(t, jwt.SigningMethodES256, priv, kid, good())); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  error
	}{
		{"empty", func(t *testing.T) string { return "" }, ErrInvalidToken},
		{"garbage", func(t *testing.T) string { return "not.a.jwt" }, ErrInvalidToken},
		{"oversized", func(t *testing.T) string { return strings.Repeat("a", maxTokenBytes+1) }, ErrInvalidToken},
		{"alg none", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, good())
		}, ErrInvalidToken},
		{"HS256 keyed with the public key DER", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, pubDER, kid, good())
		}, ErrInvalidToken},
		{"HS256 keyed with the public key PEM", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, pubPEM, kid, good())
		}, ErrInvalidToken},
		{"ES384", func(t *testing.T) string { return sign(t, jwt.SigningMethodES384, p384, kid, good()) }, ErrInvalidToken},
		{"no kid", func(t *testing.T) string { return sign(t, jwt.SigningMethodES256, priv, "", good()) }, ErrInvalidToken},
		{"unknown kid", func(t *testing.T) string { return sign(t, jwt.SigningMethodES256, other, "someone-else", good()) }, ErrInvalidToken},
		{"our kid, another key", func(t *testing.T) string { return sign(t, jwt.SigningMethodES256, other, kid, good()) }, ErrInvalidToken},
		{"tampered payload", func(t *testing.T) string {
			s := sign(t, jwt.SigningMethodES256, priv, kid, good())
			forged := sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.Account = "EVIL" }))
			p := strings.Split(s, ".")
			return p[0] + "." + strings.Split(forged, ".")[1] + "." + p[2]
		}, ErrInvalidToken},
		{"wrong issuer", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.Issuer = "https://evil.test" }))
		}, ErrInvalidToken},
		{"wrong audience", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.Audience = jwt.ClaimStrings{"other"} }))
		}, ErrInvalidToken},
		{"no exp", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.ExpiresAt = nil }))
		}, ErrInvalidToken},
		{"no account", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.Account = "" }))
		}, ErrInvalidToken},
		{"no jti", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.ID = "" }))
		}, ErrInvalidToken},
		{"not yet valid", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }))
		}, ErrInvalidToken},
		{"unknown client", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) { c.Subject = "nobody" }))
		}, ErrInvalidToken},
		{"expired", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) {
				c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
				c.NotBefore = c.IssuedAt
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
			}))
		}, ErrTokenExpired},
		{"expired and wrong issuer", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, priv, kid, with(func(c *Claims) {
				c.Issuer = "https://evil.test"
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
			}))
		}, ErrInvalidToken},
		{"expired with a bad signature", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodES256, other, kid, with(func(c *Claims) {
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
			}))
		}, ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.svc.Verify(t.Context(), tt.token(t))
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.mustIssue(t)
	tests := []struct {
		name, account, project string
		want                   error
	}{
		{"own account and project", "ACME", "payroll", nil},
		{"second project", "ACME", "hr", nil},
		{"no account", "", "payroll", ErrAccountMissing},
		{"other account", "OTHER", "payroll", ErrAccountMismatch},
		{"account differs in case", "acme", "payroll", ErrAccountMismatch},
		{"no project", "ACME", "", ErrProjectMissing},
		{"other project", "ACME", "legal", ErrProjectMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := f.svc.Authorize(t.Context(), tok.AccessToken, tt.account, tt.project)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Authorize(%q, %q) = %v, want %v", tt.account, tt.project, err, tt.want)
			}
			if err != nil {
				return
			}
			want := &Principal{ClientID: f.client.ID, Account: tt.account, Project: tt.project, TokenID: tok.ID}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("Principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDisabledClientTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.mustIssue(t)
	if _, err := f.svc.Verify(t.Context(), tok.AccessToken); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if _, err := f.admin.SetDisabled(t.Context(), f.client.ID, true); err != nil {
		t.Fatal(err)
	}
	// The status read before the change is trusted for StatusCacheTTL.
	f.clock.Advance(DefaultStatusCacheTTL - time.Second)
	if _, err := f.svc.Verify(t.Context(), tok.AccessToken); err != nil {
		t.Errorf("Verify within the status cache lifetime = %v, want success", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.svc.Verify(t.Context(), tok.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify after the status cache lifetime = %v, want ErrInvalidToken", err)
	}
	if _, err := f.admin.SetDisabled(t.Context(), f.client.ID, false); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultStatusCacheTTL)
	if _, err := f.svc.Verify(t.Context(), tok.AccessToken); err != nil {
		t.Errorf("Verify after re-enabling = %v, want success", err)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	old := f.mustIssue(t)
	_, oldKid := f.signingKey(t)
	f.clock.Advance(time.Minute)
	k, err := f.admin.RotateKey(t.Context())
	if err != nil {
		t.Fatalf("RotateKey = %v", err)
	}
	if k.ID == oldKid {
		t.Fatalf("RotateKey gave the same kid %s", k.ID)
	}
	// Another node that has not reloaded yet meets a token with the new
	// kid: it reloads on the unknown kid.
	other, err := New(Options{Clients: f.store, Keys: f.store, MasterKey: testMaster, Issuer: testIssuer, Hash: testHashParams, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	// f.svc loaded its keys before the rotation; after its refresh period
	// it signs with the new key.
	f.clock.Advance(DefaultKeyRefresh)
	fresh := f.mustIssue(t)
	kidOf := func(s string) string {
		tok, _, err := jwt.NewParser().ParseUnverified(s, &Claims{})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Header["kid"].(string)
	}
	if got := kidOf(fresh.AccessToken); got != k.ID {
		t.Errorf("kid after rotation = %s, want %s", got, k.ID)
	}
	for name, tok := range map[string]string{"old": old.AccessToken, "fresh": fresh.AccessToken} {
		for svcName, svc := range map[string]*Service{"issuer": f.svc, "other node": other} {
			if _, err := svc.Verify(t.Context(), tok); err != nil {
				t.Errorf("%s node: Verify(%s token) = %v", svcName, name, err)
			}
		}
	}
	jwks, err := f.svc.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, j := range jwks.Keys {
		kids = append(kids, j.KeyID)
	}
	if diff := cmp.Diff([]string{k.ID, oldKid}, kids); diff != "" {
		t.Errorf("JWKS kids (-want +got):\n%s", diff)
	}
	// Once no token of the old key can be alive, it is dropped.
	f.clock.Advance(time.Hour + DefaultLeeway)
	jwks, err = f.svc.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].KeyID != k.ID {
		t.Errorf("JWKS after retention = %+v, want only %s", jwks.Keys, k.ID)
	}
}

func TestUnknownKidReloadIsThrottled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "x"})
	tok.Header["kid"] = "unknown"
	s, err := tok.SignedString(other)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(minKeyReload)
	before := f.store.reads
	for range 50 {
		if _, err := f.svc.Verify(t.Context(), s); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify = %v, want ErrInvalidToken", err)
		}
	}
	if got := f.store.reads - before; got != 1 {
		t.Errorf("50 unknown kids read the keys %d times, want 1", got)
	}
}

func TestWrongMasterKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	wrong := []byte(strings.Repeat("x", MasterKeySize))
	svc, err := New(Options{Clients: f.store, Keys: f.store, MasterKey: wrong, Issuer: testIssuer, Hash: testHashParams})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureKey(t.Context()); !errors.Is(err, ErrMasterKey) {
		t.Errorf("EnsureKey(wrong master key) = %v, want ErrMasterKey", err)
	}
	if _, err := New(Options{Clients: f.store, Keys: f.store, MasterKey: []byte("short"), Issuer: testIssuer}); err == nil {
		t.Errorf("New(short master key) = nil error")
	}
}

func TestCreateClientValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tests := []struct {
		name string
		nc   NewClient
	}{
		{"no account", NewClient{Projects: []string{"p"}}},
		{"no project", NewClient{Account: "ACME"}},
		{"empty project", NewClient{Account: "ACME", Projects: []string{""}}},
		{"space in account", NewClient{Account: "AC ME", Projects: []string{"p"}}},
		{"non-ASCII project", NewClient{Account: "ACME", Projects: []string{"nómina"}}},
		{"control in name", NewClient{Account: "ACME", Projects: []string{"p"}, Name: "a\nb"}},
		{"long account", NewClient{Account: strings.Repeat("a", 129), Projects: []string{"p"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := f.admin.CreateClient(t.Context(), tt.nc); !errors.Is(err, ErrInvalidClient) {
				t.Errorf("CreateClient(%+v) = %v, want ErrInvalidClient", tt.nc, err)
			}
		})
	}
	c, secret, err := f.admin.CreateClient(t.Context(), NewClient{Account: "ACME", Projects: []string{"b", "a", "b"}, Name: "Nóminas"})
	if err != nil {
		t.Fatalf("CreateClient = %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, c.Projects); diff != "" {
		t.Errorf("projects (-want +got):\n%s", diff)
	}
	if strings.Contains(c.SecretHash, secret) {
		t.Errorf("stored hash contains the secret")
	}
	got, err := f.admin.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("ListClients = %d clients, want 2", len(got))
	}
}

func TestRotateKeyWithWrongMasterKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	wrong, err := NewAdmin(AdminOptions{Clients: f.store, Keys: f.store, MasterKey: []byte(strings.Repeat("w", MasterKeySize))})
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.store.keys)
	if _, err := wrong.RotateKey(t.Context()); !errors.Is(err, ErrMasterKey) {
		t.Errorf("RotateKey(wrong master key) = %v, want ErrMasterKey", err)
	}
	if len(f.store.keys) != before {
		t.Errorf("RotateKey with the wrong master key stored a key")
	}
}
