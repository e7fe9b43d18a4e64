package openid

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"sello/internal/auth"
)

// provider is an OpenID provider built with an OpenID-certified library,
// serving discovery, JWKS and the client_credentials grant on a loopback
// port, with JWT access tokens for one client.
type provider struct {
	srv    *httptest.Server
	issuer string
	store  *opStorage
}

func startProvider(t *testing.T) *provider {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	st := &opStorage{
		key:      rsaKey,
		kid:      "provider-key-1",
		clientID: "payroll-app", secret: "payroll-app-secret",
		claims: map[string]any{"org_id": "ACME", "groups": []string{"payroll", "hr"}},
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	p, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true},
		st, op.StaticIssuer(issuer), op.WithAllowInsecure(), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return &provider{srv: srv, issuer: issuer, store: st}
}

// token fetches an access token from the provider with client_credentials.
func (p *provider) token(t *testing.T, secret string) (string, int) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"sello"}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.store.clientID), url.QueryEscape(secret))
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil && resp.StatusCode == 200 {
		t.Fatal(err)
	}
	return body.AccessToken, resp.StatusCode
}

func TestExternalProvider(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	tok, status := p.token(t, p.store.secret)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("provider token = %d, want 200 and a token", status)
	}
	if _, status := p.token(t, "wrong"); status == http.StatusOK {
		t.Fatalf("provider token with a wrong secret = 200")
	}
	iss, err := New(t.Context(), Options{
		IssuerURL: p.issuer, Audience: "sello", AccountClaim: "org_id", ProjectsClaim: "groups",
		HTTPClient: p.srv.Client(),
	})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	claims, err := iss.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("Verify(provider token) = %v", err)
	}
	if claims.Subject != "payroll-app" || claims.Account != "ACME" || !cmp.Equal(claims.Projects, []string{"payroll", "hr"}) {
		t.Errorf("claims = sub %q, account %q, projects %v; want payroll-app, ACME, [payroll hr]", claims.Subject, claims.Account, claims.Projects)
	}

	// Through the token service, beside its own tokens.
	svc := mustService(t, iss)
	pr, err := svc.Authorize(t.Context(), tok, "ACME", "hr")
	if err != nil {
		t.Fatalf("Authorize(provider token) = %v", err)
	}
	if pr.ClientID != "payroll-app" {
		t.Errorf("principal client = %q, want payroll-app", pr.ClientID)
	}
	if _, err := svc.Authorize(t.Context(), tok, "OTHER", "hr"); !errors.Is(err, auth.ErrAccountMismatch) {
		t.Errorf("Authorize(other account) = %v, want ErrAccountMismatch", err)
	}
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	if _, err := svc.Verify(t.Context(), tampered); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Verify(tampered provider token) = %v, want ErrInvalidToken", err)
	}
}

func TestExternalProviderChecks(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	tok, _ := p.token(t, p.store.secret)
	tests := []struct {
		name string
		opts Options
		now  time.Time
		want error
	}{
		{"wrong audience", Options{Audience: "someone-else"}, time.Time{}, auth.ErrInvalidToken},
		{"missing account claim", Options{Audience: "sello", AccountClaim: "tenant"}, time.Time{}, auth.ErrInvalidToken},
		{"expired", Options{Audience: "sello", AccountClaim: "org_id"}, time.Now().Add(3 * time.Hour), auth.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.opts
			o.IssuerURL, o.HTTPClient = p.issuer, p.srv.Client()
			if !tt.now.IsZero() {
				o.Now = func() time.Time { return tt.now }
			}
			iss, err := New(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := iss.Verify(t.Context(), tok); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := New(t.Context(), Options{IssuerURL: p.issuer + "/other", Audience: "sello", HTTPClient: p.srv.Client()}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("New(wrong issuer URL) = %v, want ErrUnavailable", err)
	}
}

func TestExternalKeyRotation(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	iss, err := New(t.Context(), Options{IssuerURL: p.issuer, Audience: "sello", AccountClaim: "org_id", HTTPClient: p.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	// The provider rotates its key after we cached the set: the unknown
	// kid makes us fetch the set again.
	newKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.store.rotate(newKey, "provider-key-2")
	tok, _ := p.token(t, p.store.secret)
	// Right after a fetch, an unknown kid does not fetch again (a flood of
	// forged kids must not hammer the provider)...
	if _, err := iss.Verify(t.Context(), tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Verify(new kid, just fetched) = %v, want ErrInvalidToken", err)
	}
	// ...but once the minimum refresh interval has passed, it does.
	iss.mu.Lock()
	iss.fetchedAt = iss.fetchedAt.Add(-defaultMinRefresh)
	iss.mu.Unlock()
	if _, err := iss.Verify(t.Context(), tok); err != nil {
		t.Errorf("Verify(token of the rotated key) = %v", err)
	}
}

func mustService(t *testing.T, ext auth.ExternalIssuer) *auth.Service {
	t.Helper()
	svc, err := auth.New(auth.Options{
		Clients: noClients{}, Keys: noKeys{}, MasterKey: make([]byte, auth.MasterKeySize),
		Issuer: "http://sello.test", External: []auth.ExternalIssuer{ext}, NoLocalTokens: true,
		Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

type noClients struct{}

func (noClients) Client(ctx context.Context, id string) (*auth.Client, error) {
	return nil, auth.ErrNotFound
}

type noKeys struct{}

func (noKeys) AddTokenKey(context.Context, *auth.TokenKey) error { return nil }
func (noKeys) AddFirstTokenKey(context.Context, *auth.TokenKey) (bool, error) {
	return false, nil
}
func (noKeys) TokenKeys(context.Context) ([]*auth.TokenKey, error) { return nil, nil }

// opStorage is the provider's storage: one confidential client that may
// use client_credentials and gets JWT access tokens with private claims.
// The interactive flows the test does not use answer "not supported".
type opStorage struct {
	mu       sync.Mutex
	key      *rsa.PrivateKey
	kid      string
	clientID string
	secret   string
	claims   map[string]any
}

func (s *opStorage) rotate(k *rsa.PrivateKey, kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key, s.kid = k, kid
}

var errUnsupported = errors.New("not supported by the test provider")

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.kid }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signingKey{s.kid, s.key}, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []op.Key{publicKey{signingKey{s.kid, s.key}}}, nil
}

func (s *opStorage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if clientID != s.clientID || clientSecret != s.secret {
		return nil, errors.New("invalid client")
	}
	return &opClient{id: clientID}, nil
}

func (s *opStorage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	return tokenRequest{subject: clientID, scopes: scopes}, nil
}

func (s *opStorage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return "at-" + rand.Text(), time.Now().Add(time.Hour), nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	return s.claims, nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	if clientID != s.clientID {
		return nil, errors.New("unknown client")
	}
	return &opClient{id: clientID}, nil
}

func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	if clientID != s.clientID || clientSecret != s.secret {
		return errors.New("invalid client")
	}
	return nil
}

func (s *opStorage) Health(context.Context) error { return nil }

func (s *opStorage) CreateAuthRequest(context.Context, *zoidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) SaveAuthCode(context.Context, string, string) error { return errUnsupported }
func (s *opStorage) DeleteAuthRequest(context.Context, string) error    { return errUnsupported }
func (s *opStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}
func (s *opStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) TerminateSession(context.Context, string, string) error { return errUnsupported }
func (s *opStorage) RevokeToken(context.Context, string, string, string) *zoidc.Error {
	return zoidc.ErrServerError()
}
func (s *opStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", errUnsupported
}
func (s *opStorage) SetUserinfoFromScopes(context.Context, *zoidc.UserInfo, string, string, []string) error {
	return errUnsupported
}
func (s *opStorage) SetUserinfoFromToken(context.Context, *zoidc.UserInfo, string, string, string) error {
	return errUnsupported
}
func (s *opStorage) SetIntrospectionFromToken(context.Context, *zoidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}
func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}
func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

type tokenRequest struct {
	subject string
	scopes  []string
}

func (r tokenRequest) GetSubject() string    { return r.subject }
func (r tokenRequest) GetAudience() []string { return []string{"sello"} }
func (r tokenRequest) GetScopes() []string   { return r.scopes }

// opClient is the provider's view of the confidential client.
type opClient struct{ id string }

func (c *opClient) GetID() string                       { return c.id }
func (c *opClient) RedirectURIs() []string              { return nil }
func (c *opClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *opClient) AuthMethod() zoidc.AuthMethod        { return zoidc.AuthMethodBasic }
func (c *opClient) ResponseTypes() []zoidc.ResponseType { return nil }
func (c *opClient) GrantTypes() []zoidc.GrantType {
	return []zoidc.GrantType{zoidc.GrantTypeClientCredentials}
}
func (c *opClient) LoginURL(string) string               { return "" }
func (c *opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *opClient) IDTokenLifetime() time.Duration       { return time.Hour }
func (c *opClient) DevMode() bool                        { return false }
func (c *opClient) IsScopeAllowed(string) bool           { return true }
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *opClient) ClockSkew() time.Duration             { return 0 }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
