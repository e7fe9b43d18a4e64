package auth

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// ErrInvalidClient reports a client definition that cannot be stored: an
// empty or malformed account, project or name. The wrapped message says
// which field is wrong.
var ErrInvalidClient = errors.New("auth: invalid client")

// maxIdentifierLen bounds account and project identifiers, and names.
const maxIdentifierLen = 128

// AdminOptions configure an Admin. Clients is required; Keys and MasterKey
// only for the key operations.
type AdminOptions struct {
	Clients   ClientRegistry
	Keys      KeyStore
	MasterKey []byte
	Hash      HashParams       // argon2id cost of new hashes
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // default crypto/rand.Reader
}

// Admin manages API clients and token-signing keys, for the CLI. It is safe
// for concurrent use.
type Admin struct {
	clients ClientRegistry
	keys    KeyStore
	aead    cipher.AEAD
	hash    HashParams
	now     func() time.Time
	rand    io.Reader
}

// NewAdmin returns an Admin.
func NewAdmin(opts AdminOptions) (*Admin, error) {
	if opts.Clients == nil {
		return nil, errors.New("auth: AdminOptions.Clients is required")
	}
	a := &Admin{clients: opts.Clients, keys: opts.Keys, hash: opts.Hash.withDefaults(), now: opts.Now, rand: opts.Rand}
	if opts.MasterKey != nil {
		aead, err := newAEAD(opts.MasterKey)
		if err != nil {
			return nil, err
		}
		a.aead = aead
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.rand == nil {
		a.rand = rand.Reader
	}
	return a, nil
}

// NewClient describes a client to create.
type NewClient struct {
	Account  string
	Projects []string
	Name     string
}

// CreateClient creates an enabled client and returns it with its secret,
// which is not kept anywhere and cannot be shown again. It returns
// ErrInvalidClient (wrapped) for a bad definition.
func (a *Admin) CreateClient(ctx context.Context, nc NewClient) (*Client, string, error) {
	if err := checkIdentifier("account", nc.Account); err != nil {
		return nil, "", err
	}
	if len(nc.Projects) == 0 {
		return nil, "", fmt.Errorf("%w: at least one project is required", ErrInvalidClient)
	}
	for _, p := range nc.Projects {
		if err := checkIdentifier("project", p); err != nil {
			return nil, "", err
		}
	}
	if len(nc.Name) > maxIdentifierLen || strings.ContainsFunc(nc.Name, unicode.IsControl) {
		return nil, "", fmt.Errorf("%w: name must be at most %d printable characters", ErrInvalidClient, maxIdentifierLen)
	}
	id, err := uuid.NewRandomFromReader(a.rand)
	if err != nil {
		return nil, "", fmt.Errorf("auth: generate client id: %w", err)
	}
	secret, hash, err := a.newSecret()
	if err != nil {
		return nil, "", err
	}
	projects := slices.Clone(nc.Projects)
	slices.Sort(projects)
	now := a.now().UTC()
	c := &Client{
		ID:         id.String(),
		Account:    nc.Account,
		Projects:   slices.Compact(projects),
		Name:       nc.Name,
		SecretHash: hash,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := a.clients.CreateClient(ctx, c); err != nil {
		return nil, "", fmt.Errorf("auth: create client: %w", err)
	}
	return c, secret, nil
}

// checkIdentifier accepts 1 to maxIdentifierLen printable characters
// without spaces: these values travel in HTTP headers.
func checkIdentifier(field, v string) error {
	if v == "" || len(v) > maxIdentifierLen ||
		strings.ContainsFunc(v, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || unicode.IsSpace(r) }) {
		return fmt.Errorf("%w: %s %q must be 1 to %d visible ASCII characters", ErrInvalidClient, field, v, maxIdentifierLen)
	}
	return nil
}

func (a *Admin) newSecret() (secret, hash string, err error) {
	secret, err = newSecret(a.rand)
	if err != nil {
		return "", "", fmt.Errorf("auth: %w", err)
	}
	hash, err = hashSecret(secret, a.hash, a.rand)
	if err != nil {
		return "", "", fmt.Errorf("auth: %w", err)
	}
	return secret, hash, nil
}

// ListClients returns every client, oldest first.
func (a *Admin) ListClients(ctx context.Context) ([]*Client, error) {
	cs, err := a.clients.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: list clients: %w", err)
	}
	return cs, nil
}

// SetDisabled disables or enables the client id and returns it. A disabled
// client gets no new token, and its live tokens stop working within the
// server's status cache lifetime. It returns ErrNotFound (wrapped) for an
// unknown id.
func (a *Admin) SetDisabled(ctx context.Context, id string, disabled bool) (*Client, error) {
	return a.update(ctx, id, func(c *Client) { c.Disabled = disabled })
}

// RotateSecret gives the client id a new secret, returned once; the old one
// stops working at once. It returns ErrNotFound (wrapped) for an unknown id.
func (a *Admin) RotateSecret(ctx context.Context, id string) (*Client, string, error) {
	secret, hash, err := a.newSecret()
	if err != nil {
		return nil, "", err
	}
	c, err := a.update(ctx, id, func(c *Client) { c.SecretHash = hash })
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

func (a *Admin) update(ctx context.Context, id string, change func(*Client)) (*Client, error) {
	c, err := a.clients.Client(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("auth: client %s: %w", id, err)
	}
	change(c)
	c.UpdatedAt = a.now().UTC()
	if err := a.clients.UpdateClient(ctx, c); err != nil {
		return nil, fmt.Errorf("auth: client %s: %w", id, err)
	}
	return c, nil
}

// RotateKey adds a new token-signing key, which signs every token issued
// from then on (servers pick it up within their key refresh period). Tokens
// signed by earlier keys stay valid until they expire. It returns
// ErrMasterKey (wrapped) when the master key cannot open the current key:
// the new key would be unusable by the servers.
func (a *Admin) RotateKey(ctx context.Context) (*TokenKey, error) {
	if a.keys == nil || a.aead == nil {
		return nil, errors.New("auth: RotateKey needs AdminOptions.Keys and MasterKey")
	}
	// Creation times order the keys; make sure the new key sorts last even
	// if the clock stepped back.
	now := a.now()
	existing, err := a.keys.TokenKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: read token keys: %w", err)
	}
	for _, k := range existing {
		if !k.CreatedAt.Before(now) {
			now = k.CreatedAt.Add(time.Millisecond)
		}
	}
	// A key sealed under another master key than the servers' would stop
	// every server from signing: prove ours opens the current key first.
	if len(existing) > 0 {
		newest := slices.MaxFunc(existing, func(a, b *TokenKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
		if _, err := openTokenKey(a.aead, newest); err != nil {
			return nil, fmt.Errorf("auth: rotate key: %w", err)
		}
	}
	tk, _, err := generateTokenKey(a.aead, now, a.rand)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if err := a.keys.AddTokenKey(ctx, tk); err != nil {
		return nil, fmt.Errorf("auth: store token key: %w", err)
	}
	return tk, nil
}

// ListKeys returns the stored token-signing keys, oldest first.
func (a *Admin) ListKeys(ctx context.Context) ([]*TokenKey, error) {
	if a.keys == nil {
		return nil, errors.New("auth: ListKeys needs AdminOptions.Keys")
	}
	ks, err := a.keys.TokenKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: read token keys: %w", err)
	}
	return ks, nil
}
