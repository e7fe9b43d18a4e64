// Package openid trusts an external OpenID Connect provider's access
// tokens: it reads the provider's discovery document (OpenID Connect
// Discovery 1.0 §4) and JSON Web Key Set (RFC 7517), verifies JWT access
// tokens with those keys, and maps the provider's claims onto auth.Claims.
// It is an adapter (it speaks HTTP) for auth.ExternalIssuer.
package openid

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"sello/internal/auth"
)

var _ auth.ExternalIssuer = (*Issuer)(nil)

// ErrUnavailable reports that the provider's discovery document or key set
// cannot be fetched or read.
var ErrUnavailable = errors.New("openid: provider unavailable")

// Defaults of Options.
const (
	DefaultAccountClaim  = "account"
	DefaultProjectsClaim = "projects"
	defaultMaxKeyAge     = time.Hour
	defaultMinRefresh    = 10 * time.Second
	maxDocumentBytes     = 1 << 20
)

// Options configure an Issuer. IssuerURL and Audience are required.
type Options struct {
	// IssuerURL is the provider's issuer identifier; the discovery
	// document is read from IssuerURL + "/.well-known/openid-configuration"
	// and must name the same issuer.
	IssuerURL string
	// Audience is the aud the provider puts in tokens meant for Sello.
	Audience string
	// AccountClaim names the claim holding the account (a string);
	// default "account".
	AccountClaim string
	// ProjectsClaim names the claim holding the projects: an array of
	// strings or one space-separated string; default "projects".
	ProjectsClaim string
	// HTTPClient fetches the documents; default http.DefaultClient.
	HTTPClient *http.Client
	// Leeway is the clock-skew allowance; zero means auth.DefaultLeeway,
	// negative none.
	Leeway time.Duration
	// MaxKeyAge is how long a fetched key set is used before it is
	// fetched again; default 1 h. An unknown kid fetches it at once, at
	// most once per 10 s.
	MaxKeyAge time.Duration
	Now       func() time.Time // default time.Now
}

// Issuer verifies one provider's access tokens. It is safe for concurrent
// use.
type Issuer struct {
	opts    Options
	jwksURI string
	parser  *jwt.Parser

	mu        sync.Mutex
	keys      map[string]crypto.PublicKey
	fetchedAt time.Time
}

// New reads the provider's discovery document and key set and returns an
// Issuer, or an error wrapping ErrUnavailable.
func New(ctx context.Context, opts Options) (*Issuer, error) {
	if opts.IssuerURL == "" || opts.Audience == "" {
		return nil, errors.New("openid: Options.IssuerURL and Options.Audience are required")
	}
	if opts.AccountClaim == "" {
		opts.AccountClaim = DefaultAccountClaim
	}
	if opts.ProjectsClaim == "" {
		opts.ProjectsClaim = DefaultProjectsClaim
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	switch {
	case opts.Leeway == 0:
		opts.Leeway = auth.DefaultLeeway
	case opts.Leeway < 0:
		opts.Leeway = 0
	}
	if opts.MaxKeyAge <= 0 {
		opts.MaxKeyAge = defaultMaxKeyAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	iss := &Issuer{opts: opts}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := iss.getJSON(ctx, strings.TrimRight(opts.IssuerURL, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, err
	}
	// OpenID Connect Discovery 1.0 §4.3: the issuer must match exactly.
	if doc.Issuer != opts.IssuerURL {
		return nil, fmt.Errorf("%w: discovery names issuer %q, want %q", ErrUnavailable, doc.Issuer, opts.IssuerURL)
	}
	if doc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: discovery document has no jwks_uri", ErrUnavailable)
	}
	iss.jwksURI = doc.JWKSURI
	iss.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}),
		jwt.WithIssuer(opts.IssuerURL),
		jwt.WithAudience(opts.Audience),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithTimeFunc(opts.Now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if err := iss.fetchKeys(ctx); err != nil {
		return nil, err
	}
	return iss, nil
}

// Issuer returns the provider's issuer identifier.
func (i *Issuer) Issuer() string { return i.opts.IssuerURL }

// Verify checks an access token of the provider and returns its claims
// with the account and projects taken from the configured claims. It
// returns auth.ErrTokenExpired, auth.ErrInvalidToken (wrapped), or an error
// wrapping ErrUnavailable when the key set cannot be fetched.
func (i *Issuer) Verify(ctx context.Context, raw string) (*auth.Claims, error) {
	var fault error
	mc := jwt.MapClaims{}
	_, err := i.parser.ParseWithClaims(raw, mc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, err := i.key(ctx, kid)
		if err != nil {
			fault = err
		}
		return key, err
	})
	if fault != nil && !errors.Is(fault, errUnknownKey) {
		return nil, fault
	}
	if err != nil {
		return nil, auth.TokenError(err)
	}
	c := &auth.Claims{}
	c.Issuer, _ = mc.GetIssuer()
	c.Subject, _ = mc.GetSubject()
	c.Audience, _ = mc.GetAudience()
	c.ExpiresAt, _ = mc.GetExpirationTime()
	c.NotBefore, _ = mc.GetNotBefore()
	c.IssuedAt, _ = mc.GetIssuedAt()
	c.ID, _ = mc["jti"].(string)
	c.Account, _ = mc[i.opts.AccountClaim].(string)
	c.Projects = stringList(mc[i.opts.ProjectsClaim])
	if c.Subject == "" || c.Account == "" {
		return nil, fmt.Errorf("%w: token lacks sub or %s", auth.ErrInvalidToken, i.opts.AccountClaim)
	}
	return c, nil
}

// stringList reads a claim that is an array of strings or a
// space-separated string (as "scope" is, RFC 8693 §4.2).
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

var errUnknownKey = errors.New("openid: unknown key")

// key returns the public key kid, fetching the key set when it is older
// than MaxKeyAge, or when kid is unknown and the last fetch is older than
// the minimum refresh interval.
func (i *Issuer) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	age := i.opts.Now().Sub(i.fetchedAt)
	if age > i.opts.MaxKeyAge {
		if err := i.fetchKeys(ctx); err != nil {
			return nil, err
		}
	}
	if k, ok := i.keys[kid]; ok {
		return k, nil
	}
	if i.opts.Now().Sub(i.fetchedAt) >= defaultMinRefresh {
		if err := i.fetchKeys(ctx); err != nil {
			return nil, err
		}
		if k, ok := i.keys[kid]; ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w %q", errUnknownKey, kid)
}

// jwk is one key of a JWKS, the members this package reads.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// fetchKeys replaces the key set. The caller holds i.mu.
func (i *Issuer) fetchKeys(ctx context.Context) error {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := i.getJSON(ctx, i.jwksURI, &set); err != nil {
		return err
	}
	keys := make(map[string]crypto.PublicKey)
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			continue // a key we cannot use cannot verify anything either
		}
		keys[k.Kid] = pub
	}
	i.keys, i.fetchedAt = keys, i.opts.Now()
	return nil
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}

// publicKey decodes an RSA (RFC 7518 §6.3.1) or EC (§6.2.1) public key.
func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err := b64int(k.N)
		if err != nil {
			return nil, err
		}
		e, err := b64int(k.E)
		if err != nil || !e.IsInt64() || e.Int64() > 1<<31-1 || e.Int64() < 3 {
			return nil, errors.New("bad RSA exponent")
		}
		if n.BitLen() < 2048 {
			return nil, errors.New("RSA key under 2048 bits")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", k.Crv)
		}
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinates")
		}
		return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	}
	return nil, fmt.Errorf("unsupported key type %q", k.Kty)
}

// getJSON fetches url and decodes its JSON body into v.
func (i *Issuer) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := i.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", ErrUnavailable, url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentBytes)).Decode(v); err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrUnavailable, url, err)
	}
	return nil
}
