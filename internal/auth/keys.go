package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// algES256 is the JWS algorithm of every token-signing key (RFC 7518 §3.4).
const algES256 = "ES256"

// MasterKeySize is the length in bytes of the master key that seals the
// token-signing keys (AES-256).
const MasterKeySize = 32

// ErrMasterKey reports that a stored token-signing key cannot be opened
// with the configured master key: the key is wrong or the row is damaged.
var ErrMasterKey = errors.New("auth: token key cannot be decrypted with this master key")

// TokenKey is a token-signing key as a KeyStore keeps it.
type TokenKey struct {
	ID        string // RFC 7638 JWK thumbprint of the public key; the JWT kid
	Algorithm string // JWS algorithm, "ES256"
	PublicKey []byte // PKIX (SubjectPublicKeyInfo) DER
	// SealedPrivateKey is the PKCS #8 DER private key sealed with
	// AES-256-GCM under the master key: a 12-byte nonce, then the
	// ciphertext and tag. The key id is the additional data.
	SealedPrivateKey []byte
	CreatedAt        time.Time
}

// LogValue implements slog.LogValuer; it leaves out the sealed key.
func (k TokenKey) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", k.ID),
		slog.String("alg", k.Algorithm),
		slog.Time("created_at", k.CreatedAt),
	)
}

// KeyStore keeps token-signing keys. Implementations must be safe for
// concurrent use.
type KeyStore interface {
	// AddTokenKey stores k, or returns ErrConflict when its id is taken.
	AddTokenKey(ctx context.Context, k *TokenKey) error
	// AddFirstTokenKey stores k only when the store holds no key yet, and
	// reports whether it did. Of servers that start together on an empty
	// store, exactly one adds its key.
	AddFirstTokenKey(ctx context.Context, k *TokenKey) (added bool, err error)
	// TokenKeys returns every stored key, oldest first.
	TokenKeys(ctx context.Context) ([]*TokenKey, error)
}

// newAEAD returns the AES-256-GCM cipher of a master key.
func newAEAD(master []byte) (cipher.AEAD, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("auth: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("auth: master key: %w", err)
	}
	return cipher.NewGCM(block)
}

// generateTokenKey makes a new P-256 key and its sealed record.
func generateTokenKey(aead cipher.AEAD, now time.Time, rand io.Reader) (*TokenKey, *ecdsa.PrivateKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, nil, fmt.Errorf("generate token key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encode token key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode token key: %w", err)
	}
	kid, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, nil, fmt.Errorf("generate nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, der, []byte(kid))
	return &TokenKey{
		ID:               kid,
		Algorithm:        algES256,
		PublicKey:        pub,
		SealedPrivateKey: sealed,
		CreatedAt:        now.UTC(),
	}, priv, nil
}

// openTokenKey decrypts the private half of k.
func openTokenKey(aead cipher.AEAD, k *TokenKey) (*ecdsa.PrivateKey, error) {
	n := aead.NonceSize()
	if len(k.SealedPrivateKey) < n {
		return nil, fmt.Errorf("open token key %s: %w", k.ID, ErrMasterKey)
	}
	der, err := aead.Open(nil, k.SealedPrivateKey[:n], k.SealedPrivateKey[n:], []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("open token key %s: %w", k.ID, ErrMasterKey)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("open token key %s: %w", k.ID, err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("open token key %s: not a P-256 key", k.ID)
	}
	return priv, nil
}

// parsePublicKey decodes the public half of k.
func parsePublicKey(k *TokenKey) (*ecdsa.PublicKey, error) {
	if k.Algorithm != algES256 {
		return nil, fmt.Errorf("token key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	key, err := x509.ParsePKIXPublicKey(k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("token key %s: %w", k.ID, err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("token key %s: not a P-256 key", k.ID)
	}
	return pub, nil
}

// ecCoordinates returns the fixed-length big-endian x and y of a P-256
// public key (RFC 7518 §6.2.1.2).
func ecCoordinates(pub *ecdsa.PublicKey) (x, y []byte, err error) {
	ek, err := pub.ECDH()
	if err != nil {
		return nil, nil, fmt.Errorf("token key: %w", err)
	}
	b := ek.Bytes() // 0x04 || X || Y
	if ek.Curve() != ecdh.P256() || len(b) != 65 {
		return nil, nil, errors.New("token key: not a P-256 key")
	}
	return b[1:33], b[33:], nil
}

// thumbprint returns the RFC 7638 thumbprint of an EC public key, base64url
// without padding: SHA-256 over {"crv","kty","x","y"} in that order.
func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	x, y, err := ecCoordinates(pub)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	canon := `{"crv":"P-256","kty":"EC","x":"` + enc.EncodeToString(x) + `","y":"` + enc.EncodeToString(y) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return enc.EncodeToString(sum[:]), nil
}

// JWK is one public key of a JWKS (RFC 7517 §4, RFC 7518 §6.2.1).
type JWK struct {
	KeyType   string `json:"kty"`
	Curve     string `json:"crv"`
	X         string `json:"x"`
	Y         string `json:"y"`
	KeyID     string `json:"kid"`
	Use       string `json:"use"`
	Algorithm string `json:"alg"`
}

// JWKS is a JSON Web Key Set (RFC 7517 §5).
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// keyring caches the token-signing keys read from a KeyStore: the newest,
// with its private half, signs; every key that may still have live tokens
// verifies. It reloads the store periodically and, throttled, when a token
// names a kid it does not know (another node or the CLI rotated the key).
type keyring struct {
	store     KeyStore
	aead      cipher.AEAD
	now       func() time.Time
	retention time.Duration // how long a superseded key still verifies
	refresh   time.Duration // reload period
	minReload time.Duration // minimum time between reloads for unknown kids

	mu       sync.Mutex
	loadedAt time.Time
	signer   *ecdsa.PrivateKey
	signerID string
	verify   map[string]*ecdsa.PublicKey
	jwks     JWKS
}

// load reads the store and rebuilds the ring. The caller holds k.mu.
func (k *keyring) load(ctx context.Context) error {
	all, err := k.store.TokenKeys(ctx)
	if err != nil {
		return fmt.Errorf("load token keys: %w", err)
	}
	if len(all) == 0 {
		return errors.New("load token keys: no token-signing key in the store")
	}
	all = slices.Clone(all)
	slices.SortStableFunc(all, func(a, b *TokenKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	newest := all[len(all)-1]
	priv, err := openTokenKey(k.aead, newest)
	if err != nil {
		return err
	}
	now := k.now()
	verify := make(map[string]*ecdsa.PublicKey)
	var jwks JWKS
	for i, tk := range all {
		// A key superseded longer ago than a token lives (plus leeway)
		// can have no live token left.
		if i < len(all)-1 && now.Sub(all[i+1].CreatedAt) > k.retention {
			continue
		}
		pub, err := parsePublicKey(tk)
		if err != nil {
			return err
		}
		x, y, err := ecCoordinates(pub)
		if err != nil {
			return err
		}
		verify[tk.ID] = pub
		jwks.Keys = append(jwks.Keys, JWK{
			KeyType: "EC", Curve: "P-256",
			X: base64.RawURLEncoding.EncodeToString(x), Y: base64.RawURLEncoding.EncodeToString(y),
			KeyID: tk.ID, Use: "sig", Algorithm: algES256,
		})
	}
	// Newest first, the order in which verifiers should try them.
	slices.Reverse(jwks.Keys)
	k.signer, k.signerID, k.verify, k.jwks, k.loadedAt = priv, newest.ID, verify, jwks, now
	return nil
}

// current reloads the ring when it is stale. The caller holds k.mu.
func (k *keyring) current(ctx context.Context) error {
	if k.signer != nil && k.now().Sub(k.loadedAt) < k.refresh {
		return nil
	}
	return k.load(ctx)
}

// signingKey returns the key to sign new tokens with and its kid.
func (k *keyring) signingKey(ctx context.Context) (*ecdsa.PrivateKey, string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.current(ctx); err != nil {
		return nil, "", err
	}
	return k.signer, k.signerID, nil
}

// publicKey returns the verification key named kid, reloading the store
// once when kid is unknown and the last load is older than minReload. It
// returns ok false for a kid that is not (or no longer) trusted.
func (k *keyring) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.current(ctx); err != nil {
		return nil, false, err
	}
	if pub, ok := k.verify[kid]; ok {
		return pub, true, nil
	}
	if k.now().Sub(k.loadedAt) < k.minReload {
		return nil, false, nil
	}
	if err := k.load(ctx); err != nil {
		return nil, false, err
	}
	pub, ok := k.verify[kid]
	return pub, ok, nil
}

// publicKeys returns the JWKS of the keys that verify.
func (k *keyring) publicKeys(ctx context.Context) (JWKS, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.current(ctx); err != nil {
		return JWKS{}, err
	}
	return JWKS{Keys: slices.Clone(k.jwks.Keys)}, nil
}
