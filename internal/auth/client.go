package auth

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// Store errors. Store adapters translate their driver's errors into these.
var (
	// ErrNotFound reports that no client or key has the given id.
	ErrNotFound = errors.New("auth: not found")
	// ErrConflict reports that a client or key with the same id exists.
	ErrConflict = errors.New("auth: already exists")
)

// Client is an API client: a machine that obtains tokens with its id and
// secret and calls the signing API for its account's projects.
type Client struct {
	ID       string
	Account  string   // the only x-account-id its tokens are good for
	Projects []string // the x-project-id values its tokens are good for, sorted
	Name     string   // free text for operators
	// SecretHash is the argon2id hash of the secret in PHC string format;
	// the secret itself is never stored.
	SecretHash string
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// LogValue implements slog.LogValuer; it leaves out the secret hash.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", c.ID),
		slog.String("account", c.Account),
		slog.Any("projects", c.Projects),
		slog.Bool("disabled", c.Disabled),
	)
}

// HasProject reports whether p is one of the client's projects.
func (c *Client) HasProject(p string) bool {
	return slices.Contains(c.Projects, p)
}

// ClientStore reads API clients. Implementations must be safe for concurrent
// use.
type ClientStore interface {
	// Client returns the client with the given id, or ErrNotFound.
	Client(ctx context.Context, id string) (*Client, error)
}

// ClientRegistry is a ClientStore that can also add, change and list
// clients, as administration needs.
type ClientRegistry interface {
	ClientStore
	// CreateClient adds c, or returns ErrConflict when its id is taken.
	CreateClient(ctx context.Context, c *Client) error
	// UpdateClient replaces the stored name, account, projects, secret
	// hash, disabled flag and update time of the client with c.ID, or
	// returns ErrNotFound.
	UpdateClient(ctx context.Context, c *Client) error
	// ListClients returns every client ordered by creation time, then id.
	ListClients(ctx context.Context) ([]*Client, error)
}

// Principal is the authenticated caller of a protected request: a client
// whose token was valid for the account and project the request names.
type Principal struct {
	ClientID string
	Account  string // the x-account-id that was checked against the token
	Project  string // the x-project-id that was checked against the token
	TokenID  string // the token's jti, for the audit log
}

// principalKey is the context key of the request's Principal.
type principalKey struct{}

// WithClient returns a copy of ctx that carries p.
func WithClient(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// ClientFrom returns the Principal stored in ctx by WithClient, and whether
// there was one.
func ClientFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
