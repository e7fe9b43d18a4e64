package auth

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Token errors. The HTTP layer maps each to its status and wire text.
var (
	// ErrInvalidCredentials reports an unknown client, a disabled one or a
	// wrong secret; which of the three is deliberately not told.
	ErrInvalidCredentials = errors.New("auth: invalid client credentials")
	// ErrInvalidToken reports a token that is absent, malformed, not signed
	// by a trusted key, for another issuer or audience, not yet valid, or
	// whose client is disabled or gone.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrTokenExpired reports a token that is well signed and otherwise
	// valid but past its expiry time (plus leeway).
	ErrTokenExpired = errors.New("auth: token expired")
	// ErrNoLocalTokens reports a token request to a service configured to
	// accept only the tokens of external issuers.
	ErrNoLocalTokens = errors.New("auth: this service does not issue tokens")
	// ErrAccountMissing reports a request without an account id.
	ErrAccountMissing = errors.New("auth: account id missing")
	// ErrAccountMismatch reports an account id the token was not issued for.
	ErrAccountMismatch = errors.New("auth: token not valid for the account")
	// ErrProjectMissing reports a request without a project id.
	ErrProjectMissing = errors.New("auth: project id missing")
	// ErrProjectMismatch reports a project id the token was not issued for.
	ErrProjectMismatch = errors.New("auth: token not valid for the project")
)

// Defaults of Options.
const (
	DefaultTTL            = time.Hour
	DefaultLeeway         = 30 * time.Second
	DefaultStatusCacheTTL = 30 * time.Second
	DefaultKeyRefresh     = time.Minute
	DefaultAudience       = "sello"

	// successCacheTTL is how long a verified secret is remembered, so that
	// a client fetching tokens often pays for argon2id once in a while.
	successCacheTTL = 5 * time.Minute
	maxCacheEntries = 10000
	// maxTokenBytes caps the size of a token we agree to parse.
	maxTokenBytes = 8 << 10
	// minKeyReload throttles store reloads caused by unknown kids.
	minKeyReload = 5 * time.Second
)

// Options configure a Service. Clients, Keys, MasterKey and Issuer are
// required; zero values of the others take the documented defaults.
type Options struct {
	Clients   ClientStore
	Keys      KeyStore
	MasterKey []byte // MasterKeySize bytes; seals the token-signing keys
	Issuer    string // iss of issued tokens, usually the service's base URL
	Audience  string // aud of issued tokens; default DefaultAudience
	TTL       time.Duration
	Leeway    time.Duration // clock-skew allowance; zero: DefaultLeeway; negative: none
	// StatusCacheTTL bounds how long a disabled client's live tokens keep
	// working: a client's status is re-read at most this long after it
	// was last read.
	StatusCacheTTL time.Duration
	KeyRefresh     time.Duration // how often the keys are re-read from the store
	Hash           HashParams    // argon2id cost of new hashes
	// MaxConcurrentHashes bounds argon2id computations in flight (memory);
	// default GOMAXPROCS.
	MaxConcurrentHashes int
	RateLimit           RateLimit
	// External lists other authorization servers whose access tokens are
	// accepted as well as ours, told apart by their iss claim.
	External []ExternalIssuer
	// NoLocalTokens makes the service rely on External issuers only:
	// Issue returns ErrNoLocalTokens and tokens of our own are refused.
	NoLocalTokens bool
	Now           func() time.Time // default time.Now
	Rand          io.Reader        // default crypto/rand.Reader
}

// Service issues and verifies access tokens. It is safe for concurrent use.
type Service struct {
	clients  ClientStore
	keys     KeyStore
	aead     cipher.AEAD
	issuer   string
	audience string
	ttl      time.Duration
	leeway   time.Duration
	now      func() time.Time
	rand     io.Reader
	hasher   *hasher
	dummy    string // hash verified for unknown clients, for equal timing
	ring     *keyring
	parser   *jwt.Parser

	external map[string]ExternalIssuer // by issuer
	noLocal  bool

	byClient *failureLimiter
	byAddr   *failureLimiter
	verified *expiringSet // secrets verified recently
	status   *statusCache
}

// New returns a Service. It computes one dummy hash (a few tens of
// milliseconds) and reads nothing from the stores yet.
func New(opts Options) (*Service, error) {
	if opts.Clients == nil || opts.Keys == nil {
		return nil, errors.New("auth: Options.Clients and Options.Keys are required")
	}
	if opts.Issuer == "" {
		return nil, errors.New("auth: Options.Issuer is required")
	}
	aead, err := newAEAD(opts.MasterKey)
	if err != nil {
		return nil, err
	}
	s := &Service{
		clients:  opts.Clients,
		keys:     opts.Keys,
		aead:     aead,
		issuer:   opts.Issuer,
		audience: cmpOr(opts.Audience, DefaultAudience),
		ttl:      cmpOr(opts.TTL, DefaultTTL),
		leeway:   opts.Leeway,
		now:      opts.Now,
		rand:     opts.Rand,
		byClient: newFailureLimiter(opts.RateLimit),
		byAddr:   newFailureLimiter(opts.RateLimit),
	}
	s.external = make(map[string]ExternalIssuer)
	for _, e := range opts.External {
		if e.Issuer() == s.issuer {
			return nil, fmt.Errorf("auth: external issuer %q is our own issuer", e.Issuer())
		}
		s.external[e.Issuer()] = e
	}
	s.noLocal = opts.NoLocalTokens
	if s.noLocal && len(s.external) == 0 {
		return nil, errors.New("auth: Options.NoLocalTokens needs at least one external issuer")
	}
	if s.ttl < time.Second {
		return nil, fmt.Errorf("auth: token lifetime %s is under a second", s.ttl)
	}
	switch {
	case s.leeway == 0:
		s.leeway = DefaultLeeway
	case s.leeway < 0:
		s.leeway = 0
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	conc := opts.MaxConcurrentHashes
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	s.hasher = newHasher(opts.Hash.withDefaults(), conc)
	if s.dummy, err = hashSecret("dummy secret for unknown clients", s.hasher.params, s.rand); err != nil {
		return nil, err
	}
	cacheKey := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, cacheKey); err != nil {
		return nil, fmt.Errorf("auth: generate cache key: %w", err)
	}
	s.verified = newExpiringSet(cacheKey, maxCacheEntries)
	s.status = &statusCache{ttl: cmpOr(opts.StatusCacheTTL, DefaultStatusCacheTTL), max: maxCacheEntries, entries: make(map[string]statusEntry)}
	s.ring = &keyring{
		store:     opts.Keys,
		aead:      aead,
		now:       s.now,
		retention: s.ttl + s.leeway,
		refresh:   cmpOr(opts.KeyRefresh, DefaultKeyRefresh),
		minReload: minKeyReload,
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{algES256}),
		jwt.WithIssuer(s.issuer),
		jwt.WithAudience(s.audience),
		jwt.WithLeeway(s.leeway),
		jwt.WithTimeFunc(s.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	)
	return s, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Issuer returns the iss of the tokens the service issues.
func (s *Service) Issuer() string { return s.issuer }

// TTL returns the lifetime of the tokens the service issues.
func (s *Service) TTL() time.Duration { return s.ttl }

// EnsureKey creates the first token-signing key when the store has none,
// and loads the keys. The server calls it at start.
func (s *Service) EnsureKey(ctx context.Context) error {
	all, err := s.keys.TokenKeys(ctx)
	if err != nil {
		return fmt.Errorf("auth: read token keys: %w", err)
	}
	if len(all) == 0 {
		tk, _, err := generateTokenKey(s.aead, s.now(), s.rand)
		if err != nil {
			return fmt.Errorf("auth: %w", err)
		}
		if _, err := s.keys.AddFirstTokenKey(ctx, tk); err != nil {
			return fmt.Errorf("auth: store token key: %w", err)
		}
	}
	s.ring.mu.Lock()
	defer s.ring.mu.Unlock()
	if err := s.ring.load(ctx); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}

// Credentials are what a client presents to the token endpoint.
type Credentials struct {
	ClientID   string
	Secret     string
	RemoteAddr string // the caller's address (host only), for rate limiting
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	TokenType   string        // "Bearer"
	ExpiresIn   time.Duration // the configured lifetime
	ExpiresAt   time.Time
	ID          string // jti
}

// Claims are the claims of a Sello access token: the registered ones (iss,
// sub = client id, aud, iat, nbf, exp, jti) and the client's account and
// projects.
type Claims struct {
	jwt.RegisteredClaims
	Account  string   `json:"account"`
	Projects []string `json:"projects"`
}

// Issue checks a client's credentials and returns a new access token
// (RFC 6749 §4.4). It returns ErrInvalidCredentials for an unknown client, a
// disabled one or a wrong secret, taking the same time for each, and a
// *RateLimitError when the client id or the remote address failed too often
// lately. Other errors are faults of the service (store, keys).
func (s *Service) Issue(ctx context.Context, cr Credentials) (*Token, error) {
	if s.noLocal {
		return nil, ErrNoLocalTokens
	}
	now := s.now()
	clientKey, addrKey := "client:"+cr.ClientID, "addr:"+cr.RemoteAddr
	if wait := max(s.byClient.wait(clientKey, now), s.byAddr.wait(addrKey, now)); wait > 0 {
		return nil, &RateLimitError{RetryAfter: wait}
	}
	c, err := s.clients.Client(ctx, cr.ClientID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("auth: read client: %w", err)
	}
	ok, err := s.checkSecret(ctx, c, cr)
	if err != nil {
		return nil, err
	}
	if !ok || c.Disabled {
		s.byClient.fail(clientKey, now)
		s.byAddr.fail(addrKey, now)
		return nil, ErrInvalidCredentials
	}
	return s.mint(ctx, c, now)
}

// checkSecret verifies cr.Secret against c's hash, or against the dummy
// hash when c is nil, so that an unknown client costs the same time.
func (s *Service) checkSecret(ctx context.Context, c *Client, cr Credentials) (bool, error) {
	if c == nil {
		if _, err := s.hasher.verify(ctx, s.dummy, cr.Secret); err != nil {
			return false, fmt.Errorf("auth: verify secret: %w", err)
		}
		return false, nil
	}
	// The stored hash is part of the cache key, so rotating the secret
	// invalidates the cached verification at once.
	key := s.verified.key(c.ID, c.SecretHash, cr.Secret)
	now := s.now()
	if s.verified.has(key, now) {
		return true, nil
	}
	ok, err := s.hasher.verify(ctx, c.SecretHash, cr.Secret)
	if err != nil {
		return false, fmt.Errorf("auth: verify secret of client %s: %w", c.ID, err)
	}
	if ok {
		s.verified.add(key, now.Add(successCacheTTL), now)
	}
	return ok, nil
}

// mint signs a token for c.
func (s *Service) mint(ctx context.Context, c *Client, now time.Time) (*Token, error) {
	priv, kid, err := s.ring.signingKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	id, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return nil, fmt.Errorf("auth: generate token id: %w", err)
	}
	now = now.Truncate(time.Second)
	exp := now.Add(s.ttl)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   c.ID,
			Audience:  jwt.ClaimStrings{s.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        id.String(),
		},
		Account:  c.Account,
		Projects: slices.Clone(c.Projects),
	}
	if claims.Projects == nil {
		claims.Projects = []string{}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = kid
	t.Header["typ"] = "at+jwt" // RFC 9068 §2.1
	signed, err := t.SignedString(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: sign token: %w", err)
	}
	return &Token{AccessToken: signed, TokenType: "Bearer", ExpiresIn: s.ttl, ExpiresAt: exp, ID: id.String()}, nil
}

// Verify parses and checks an access token: ES256 signature by a trusted
// key named in kid, issuer, audience, times (with leeway), required claims,
// and that its client still exists and is enabled (as of at most
// StatusCacheTTL ago). It returns the claims, or ErrTokenExpired for a token
// that is valid but expired, or ErrInvalidToken (wrapped, with the cause) for
// everything else wrong with the token. Other errors are service faults.
func (s *Service) Verify(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, ErrInvalidToken
	}
	if len(s.external) > 0 {
		// The signature is checked by whichever issuer the token names;
		// an issuer we do not trust ends here.
		var peek jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(raw, &peek); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
		}
		if e, ok := s.external[peek.Issuer]; ok {
			return e.Verify(ctx, raw)
		}
	}
	if s.noLocal {
		return nil, fmt.Errorf("%w: not from a trusted external issuer", ErrInvalidToken)
	}
	var fault error // a store failure met while looking up the key
	claims := &Claims{}
	_, err := s.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		pub, ok, err := s.ring.publicKey(ctx, kid)
		if err != nil {
			fault = err
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return pub, nil
	})
	if fault != nil {
		return nil, fmt.Errorf("auth: %w", fault)
	}
	if err != nil {
		return nil, TokenError(err)
	}
	if claims.Subject == "" || claims.Account == "" || claims.ID == "" || claims.NotBefore == nil || claims.IssuedAt == nil {
		return nil, fmt.Errorf("%w: missing claims", ErrInvalidToken)
	}
	enabled, err := s.clientEnabled(ctx, claims.Subject)
	if err != nil {
		return nil, err
	}
	if !enabled {
		return nil, fmt.Errorf("%w: client %s is disabled or gone", ErrInvalidToken, claims.Subject)
	}
	return claims, nil
}

// TokenError classifies an error of a golang-jwt parser that checked the
// signature before the claims: ErrTokenExpired when the token is expired and
// nothing else is wrong with it, else ErrInvalidToken wrapping the cause.
// External issuer adapters use it to answer as Verify does.
func TokenError(err error) error {
	if onlyExpired(err) {
		return ErrTokenExpired
	}
	return fmt.Errorf("%w: %v", ErrInvalidToken, err)
}

// onlyExpired reports whether err says the token expired and nothing else
// was wrong with it; the signature was checked before the claims. (Every
// claim error also wraps jwt.ErrTokenInvalidClaims, so that one says nothing.)
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{
		jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenNotValidYet,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing,
		jwt.ErrTokenInvalidId, jwt.ErrTokenInvalidSubject,
	} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}

// clientEnabled reports whether the client exists and is enabled, reading
// the store at most once per StatusCacheTTL per client.
func (s *Service) clientEnabled(ctx context.Context, id string) (bool, error) {
	now := s.now()
	if enabled, ok := s.status.get(id, now); ok {
		return enabled, nil
	}
	c, err := s.clients.Client(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		s.status.put(id, false, now)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("auth: read client: %w", err)
	}
	s.status.put(id, !c.Disabled, now)
	return !c.Disabled, nil
}

// Authorize verifies raw as Verify does, then checks that the token was
// issued for account and project (the request's x-account-id and
// x-project-id), and returns the request's Principal. Besides the errors of
// Verify it returns ErrAccountMissing, ErrAccountMismatch, ErrProjectMissing
// or ErrProjectMismatch.
func (s *Service) Authorize(ctx context.Context, raw, account, project string) (*Principal, error) {
	claims, err := s.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	switch {
	case account == "":
		return nil, ErrAccountMissing
	case account != claims.Account:
		return nil, ErrAccountMismatch
	case project == "":
		return nil, ErrProjectMissing
	case !slices.Contains(claims.Projects, project):
		return nil, ErrProjectMismatch
	}
	return &Principal{ClientID: claims.Subject, Account: account, Project: project, TokenID: claims.ID}, nil
}

// JWKS returns the public keys that verify tokens, newest first.
func (s *Service) JWKS(ctx context.Context) (JWKS, error) {
	jwks, err := s.ring.publicKeys(ctx)
	if err != nil {
		return JWKS{}, fmt.Errorf("auth: %w", err)
	}
	return jwks, nil
}

// expiringSet remembers keyed MACs of recently verified secrets until they
// expire. It holds at most max entries.
type expiringSet struct {
	macKey []byte
	max    int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]time.Time
}

func newExpiringSet(macKey []byte, max int) *expiringSet {
	return &expiringSet{macKey: macKey, max: max, entries: make(map[[sha256.Size]byte]time.Time)}
}

// key is HMAC-SHA256 over the length-prefixed parts, so the secret itself
// is never kept in memory longer than the request.
func (e *expiringSet) key(parts ...string) [sha256.Size]byte {
	m := hmac.New(sha256.New, e.macKey)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s", len(p), p)
	}
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

func (e *expiringSet) has(k [sha256.Size]byte, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.entries[k]
	return ok && now.Before(exp)
}

func (e *expiringSet) add(k [sha256.Size]byte, exp, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.entries) >= e.max {
		for k2, exp2 := range e.entries {
			if !now.Before(exp2) || len(e.entries) >= e.max {
				delete(e.entries, k2)
			}
		}
	}
	e.entries[k] = exp
}

// statusCache remembers whether clients are enabled, for at most ttl.
type statusCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]statusEntry
}

type statusEntry struct {
	enabled bool
	readAt  time.Time
}

func (c *statusCache) get(id string, now time.Time) (enabled, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || now.Sub(e.readAt) >= c.ttl || now.Before(e.readAt) {
		return false, false
	}
	return e.enabled, true
}

func (c *statusCache) put(id string, enabled bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if now.Sub(e.readAt) >= c.ttl || len(c.entries) >= c.max {
				delete(c.entries, k)
			}
		}
	}
	c.entries[id] = statusEntry{enabled: enabled, readAt: now}
}
