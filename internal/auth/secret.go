package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// secretBytes is the length of a generated client secret: 256 bits.
const secretBytes = 32

// HashParams are the argon2id cost parameters (RFC 9106 §3.1) used for new
// secret hashes. Existing hashes keep the parameters they were made with.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// The default argon2id parameters follow the lower-memory recommendation:
// 19 MiB, 2 passes, 1 lane. A verification costs some tens of milliseconds
// of one core; Service bounds how many run at once and caches successes.
const (
	defaultHashMemory  = 19 * 1024
	defaultHashTime    = 2
	defaultHashThreads = 1
)

// withDefaults returns p, or the default parameters when p is zero.
func (p HashParams) withDefaults() HashParams {
	if p == (HashParams{}) {
		return HashParams{Memory: defaultHashMemory, Time: defaultHashTime, Threads: defaultHashThreads}
	}
	return p
}

// Limits on parameters read back from a stored hash, so that a damaged row
// cannot make one verification eat the machine.
const (
	maxHashMemory  = 1 << 20 // KiB, 1 GiB
	maxHashTime    = 16
	saltBytes      = 16
	hashKeyBytes   = 32
	argon2idPrefix = "$argon2id$"
)

// errBadHash reports a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("auth: malformed secret hash")

var b64 = base64.RawStdEncoding

// newSecret returns a fresh client secret: 256 bits from rand, base64url
// without padding, so it needs no escaping in a form body or Basic header.
func newSecret(rand io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret hashes secret with argon2id under p (zero: the defaults) and
// a fresh salt from rand, and returns the PHC string
// $argon2id$v=19$m=..,t=..,p=..$salt$key that Client.SecretHash holds. It is
// for tools that import existing clients and for tests; Admin hashes the
// secrets it generates itself.
func HashSecret(secret string, p HashParams, rand io.Reader) (string, error) {
	return hashSecret(secret, p.withDefaults(), rand)
}

// hashSecret is HashSecret with p used as given.
func hashSecret(secret string, p HashParams, rand io.Reader) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, hashKeyBytes)
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", argon2idPrefix, argon2.Version,
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// parsedHash is a decoded PHC string.
type parsedHash struct {
	params HashParams
	salt   []byte
	key    []byte
}

// parseHash decodes a PHC string made by hashSecret.
func parseHash(s string) (*parsedHash, error) {
	rest, ok := strings.CutPrefix(s, argon2idPrefix)
	if !ok {
		return nil, errBadHash
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 || parts[0] != "v="+strconv.Itoa(argon2.Version) {
		return nil, errBadHash
	}
	var h parsedHash
	for _, kv := range strings.Split(parts[1], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, errBadHash
		}
		switch k {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return nil, errBadHash
			}
			h.params.Threads = uint8(n)
		default:
			return nil, errBadHash
		}
	}
	p := h.params
	if p.Time < 1 || p.Time > maxHashTime || p.Threads < 1 ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxHashMemory {
		return nil, errBadHash
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[2]); err != nil || len(h.salt) < 8 {
		return nil, errBadHash
	}
	if h.key, err = b64.DecodeString(parts[3]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return nil, errBadHash
	}
	return &h, nil
}

// hasher runs argon2id with a bound on how many computations run at once:
// each holds Memory KiB, and a burst of logins must not exhaust memory.
type hasher struct {
	params HashParams
	sem    chan struct{}
}

func newHasher(p HashParams, concurrency int) *hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	return &hasher{params: p, sem: make(chan struct{}, concurrency)}
}

// hash returns the PHC string of secret under the hasher's parameters.
func (h *hasher) hash(ctx context.Context, secret string, rand io.Reader) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hashSecret(secret, h.params, rand)
}

// verify reports whether secret matches the PHC string stored, comparing in
// constant time. A malformed stored hash is an error, not a mismatch.
func (h *hasher) verify(ctx context.Context, stored, secret string) (bool, error) {
	ph, err := parseHash(stored)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	key := argon2.IDKey([]byte(secret), ph.salt, ph.params.Time, ph.params.Memory, ph.params.Threads, uint32(len(ph.key)))
	return subtle.ConstantTimeCompare(key, ph.key) == 1, nil
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.sem }
