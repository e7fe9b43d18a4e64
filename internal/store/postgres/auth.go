package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"sello/internal/auth"
)

var (
	_ auth.ClientRegistry = (*DB)(nil)
	_ auth.KeyStore       = (*DB)(nil)
)

// clientQuery selects clients with their projects, sorted, in one
// statement, so that a client and its projects come from one snapshot.
const clientQuery = `SELECT c.id, c.account, c.name, c.secret_hash, c.disabled, c.created_at, c.updated_at,
	COALESCE(array_agg(p.project ORDER BY p.project) FILTER (WHERE p.project IS NOT NULL), '{}')
FROM clients c LEFT JOIN client_projects p ON p.client_id = c.id`

func scanClient(row pgx.Row) (*auth.Client, error) {
	var (
		c                auth.Client
		created, updated int64
	)
	if err := row.Scan(&c.ID, &c.Account, &c.Name, &c.SecretHash, &c.Disabled, &created, &updated, &c.Projects); err != nil {
		return nil, err
	}
	c.CreatedAt = instant(created)
	c.UpdatedAt = instant(updated)
	if c.Projects == nil {
		c.Projects = []string{}
	}
	return &c, nil
}

// Client returns the API client with the given id, its projects sorted, or
// auth.ErrNotFound.
func (d *DB) Client(ctx context.Context, id string) (*auth.Client, error) {
	c, err := scanClient(d.pool.QueryRow(ctx, clientQuery+` WHERE c.id = $1 GROUP BY c.id`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("client %q: %w", id, auth.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read client %q: %w", id, err)
	}
	return c, nil
}

// CreateClient stores c with its projects, or returns auth.ErrConflict when
// its id is taken.
func (d *DB) CreateClient(ctx context.Context, c *auth.Client) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`INSERT INTO clients (id, account, name, secret_hash, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.ID, c.Account, c.Name, c.SecretHash, c.Disabled, nanos(c.CreatedAt), nanos(c.UpdatedAt)); err != nil {
			return err
		}
		return insertProjects(ctx, tx, c)
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("client %q: %w", c.ID, auth.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create client %q: %w", c.ID, err)
	}
	return nil
}

// insertProjects stores c's projects, each once.
func insertProjects(ctx context.Context, tx pgx.Tx, c *auth.Client) error {
	projects := slices.Clone(c.Projects)
	slices.Sort(projects)
	projects = slices.Compact(projects)
	if len(projects) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO client_projects (client_id, project) SELECT $1, unnest($2::text[])`,
		c.ID, projects); err != nil {
		return fmt.Errorf("store projects: %w", err)
	}
	return nil
}

// UpdateClient replaces the stored client c.ID (every field but the id and
// creation time), or returns auth.ErrNotFound.
func (d *DB) UpdateClient(ctx context.Context, c *auth.Client) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx,
			`UPDATE clients SET account = $1, name = $2, secret_hash = $3, disabled = $4, updated_at = $5
			WHERE id = $6`,
			c.Account, c.Name, c.SecretHash, c.Disabled, nanos(c.UpdatedAt), c.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `DELETE FROM client_projects WHERE client_id = $1`, c.ID); err != nil {
			return err
		}
		return insertProjects(ctx, tx, c)
	})
	if errors.Is(err, auth.ErrNotFound) {
		return fmt.Errorf("client %q: %w", c.ID, auth.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: update client %q: %w", c.ID, err)
	}
	return nil
}

// ListClients returns every client, ordered by creation time, then id (by
// its bytes, as the SQLite store orders them, whatever the database's
// collation).
func (d *DB) ListClients(ctx context.Context) ([]*auth.Client, error) {
	rows, err := d.pool.Query(ctx, clientQuery+` GROUP BY c.id ORDER BY c.created_at, c.id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*auth.Client, error) {
		return scanClient(row)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
	}
	return cs, nil
}

// AddTokenKey stores k, or returns auth.ErrConflict when its id is taken.
func (d *DB) AddTokenKey(ctx context.Context, k *auth.TokenKey) error {
	_, err := d.pool.Exec(ctx,
		`INSERT INTO token_keys (id, algorithm, public_key, sealed_private_key, created_at)
		VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.Algorithm, k.PublicKey, k.SealedPrivateKey, nanos(k.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("token key %q: %w", k.ID, auth.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: add token key %q: %w", k.ID, err)
	}
	return nil
}

// AddFirstTokenKey stores k only when the table is empty. Under READ
// COMMITTED two transactions could each see the table empty, so each first
// takes a lock that one holder at a time can have (SHARE ROW EXCLUSIVE
// conflicts with itself, not with readers): of nodes starting together,
// exactly one adds its key.
func (d *DB) AddFirstTokenKey(ctx context.Context, k *auth.TokenKey) (bool, error) {
	var added bool
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE token_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx,
			`INSERT INTO token_keys (id, algorithm, public_key, sealed_private_key, created_at)
			SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM token_keys)`,
			k.ID, k.Algorithm, k.PublicKey, k.SealedPrivateKey, nanos(k.CreatedAt))
		if err != nil {
			return err
		}
		added = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: add first token key %q: %w", k.ID, err)
	}
	return added, nil
}

// TokenKeys returns every token-signing key, oldest first (ties broken by
// id).
func (d *DB) TokenKeys(ctx context.Context) ([]*auth.TokenKey, error) {
	rows, err := d.pool.Query(ctx,
		`SELECT id, algorithm, public_key, sealed_private_key, created_at FROM token_keys ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read token keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*auth.TokenKey, error) {
		var (
			k       auth.TokenKey
			created int64
		)
		if err := row.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.SealedPrivateKey, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = instant(created)
		return &k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read token keys: %w", err)
	}
	return ks, nil
}
