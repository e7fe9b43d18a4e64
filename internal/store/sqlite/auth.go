package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"sello/internal/auth"
)

var (
	_ auth.ClientRegistry = (*DB)(nil)
	_ auth.KeyStore       = (*DB)(nil)
)

const clientColumns = `id, account, name, secret_hash, disabled, created_at, updated_at`

// Client returns the API client with the given id, or auth.ErrNotFound.
func (d *DB) Client(ctx context.Context, id string) (*auth.Client, error) {
	c, err := scanClient(d.db.QueryRowContext(ctx,
		`SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("client %q: %w", id, auth.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read client %q: %w", id, err)
	}
	if c.Projects, err = d.clientProjects(ctx, d.db, id); err != nil {
		return nil, err
	}
	return c, nil
}

// queryer is what clientProjects needs of a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (d *DB) clientProjects(ctx context.Context, q queryer, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT project FROM client_projects WHERE client_id = ? ORDER BY project`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read projects of client %q: %w", id, err)
	}
	defer rows.Close()
	projects := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("sqlite: read projects of client %q: %w", id, err)
		}
		projects = append(projects, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read projects of client %q: %w", id, err)
	}
	return projects, nil
}

type rowScanner interface {
	Scan(dest ...any) error
}

func scanClient(row rowScanner) (*auth.Client, error) {
	var (
		c                auth.Client
		disabled         int
		created, updated int64
	)
	if err := row.Scan(&c.ID, &c.Account, &c.Name, &c.SecretHash, &disabled, &created, &updated); err != nil {
		return nil, err
	}
	c.Disabled = disabled != 0
	c.CreatedAt = time.Unix(0, created).UTC()
	c.UpdatedAt = time.Unix(0, updated).UTC()
	return &c, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateClient stores c with its projects, or returns auth.ErrConflict when
// its id is taken.
func (d *DB) CreateClient(ctx context.Context, c *auth.Client) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create client %q: %w", c.ID, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		c.ID, c.Account, c.Name, c.SecretHash, boolInt(c.Disabled), c.CreatedAt.UnixNano(), c.UpdatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: create client %q: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create client %q: %w", c.ID, err)
	} else if n == 0 {
		return fmt.Errorf("client %q: %w", c.ID, auth.ErrConflict)
	}
	if err := insertProjects(ctx, tx, c); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create client %q: %w", c.ID, err)
	}
	return nil
}

func insertProjects(ctx context.Context, tx *sql.Tx, c *auth.Client) error {
	projects := slices.Clone(c.Projects)
	slices.Sort(projects)
	for _, p := range slices.Compact(projects) {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO client_projects (client_id, project) VALUES (?, ?)`, c.ID, p); err != nil {
			return fmt.Errorf("sqlite: store projects of client %q: %w", c.ID, err)
		}
	}
	return nil
}

// UpdateClient replaces the stored client c.ID (every field but the id and
// creation time), or returns auth.ErrNotFound.
func (d *DB) UpdateClient(ctx context.Context, c *auth.Client) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update client %q: %w", c.ID, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx,
		`UPDATE clients SET account = ?, name = ?, secret_hash = ?, disabled = ?, updated_at = ?
		WHERE id = ?`,
		c.Account, c.Name, c.SecretHash, boolInt(c.Disabled), c.UpdatedAt.UnixNano(), c.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update client %q: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update client %q: %w", c.ID, err)
	} else if n == 0 {
		return fmt.Errorf("client %q: %w", c.ID, auth.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM client_projects WHERE client_id = ?`, c.ID); err != nil {
		return fmt.Errorf("sqlite: update client %q: %w", c.ID, err)
	}
	if err := insertProjects(ctx, tx, c); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update client %q: %w", c.ID, err)
	}
	return nil
}

// ListClients returns every client, ordered by creation time, then id.
func (d *DB) ListClients(ctx context.Context) ([]*auth.Client, error) {
	rows, err := d.db.QueryContext(ctx,
		`SELECT `+clientColumns+` FROM clients ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	var cs []*auth.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: list clients: %w", err)
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	// One query for every client's projects, rather than one per client.
	byID := make(map[string]*auth.Client, len(cs))
	for _, c := range cs {
		c.Projects = []string{}
		byID[c.ID] = c
	}
	prows, err := d.db.QueryContext(ctx, `SELECT client_id, project FROM client_projects ORDER BY client_id, project`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var id, p string
		if err := prows.Scan(&id, &p); err != nil {
			return nil, fmt.Errorf("sqlite: list clients: %w", err)
		}
		if c, ok := byID[id]; ok {
			c.Projects = append(c.Projects, p)
		}
	}
	if err := prows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	return cs, nil
}

// AddTokenKey stores k, or returns auth.ErrConflict when its id is taken.
func (d *DB) AddTokenKey(ctx context.Context, k *auth.TokenKey) error {
	res, err := d.db.ExecContext(ctx,
		`INSERT INTO token_keys (id, algorithm, public_key, sealed_private_key, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Algorithm, k.PublicKey, k.SealedPrivateKey, k.CreatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: add token key %q: %w", k.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: add token key %q: %w", k.ID, err)
	} else if n == 0 {
		return fmt.Errorf("token key %q: %w", k.ID, auth.ErrConflict)
	}
	return nil
}

// AddFirstTokenKey stores k only when the table is empty. One statement
// reads and writes inside one write transaction, and SQLite runs one write
// transaction at a time, so of concurrent callers exactly one adds its key.
func (d *DB) AddFirstTokenKey(ctx context.Context, k *auth.TokenKey) (bool, error) {
	res, err := d.db.ExecContext(ctx,
		`INSERT INTO token_keys (id, algorithm, public_key, sealed_private_key, created_at)
		SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM token_keys)`,
		k.ID, k.Algorithm, k.PublicKey, k.SealedPrivateKey, k.CreatedAt.UnixNano())
	if err != nil {
		return false, fmt.Errorf("sqlite: add first token key %q: %w", k.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: add first token key %q: %w", k.ID, err)
	}
	return n == 1, nil
}

// TokenKeys returns every token-signing key, oldest first.
func (d *DB) TokenKeys(ctx context.Context) ([]*auth.TokenKey, error) {
	rows, err := d.db.QueryContext(ctx,
		`SELECT id, algorithm, public_key, sealed_private_key, created_at FROM token_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read token keys: %w", err)
	}
	defer rows.Close()
	var ks []*auth.TokenKey
	for rows.Next() {
		var (
			k       auth.TokenKey
			created int64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.SealedPrivateKey, &created); err != nil {
			return nil, fmt.Errorf("sqlite: read token keys: %w", err)
		}
		k.CreatedAt = time.Unix(0, created).UTC()
		ks = append(ks, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read token keys: %w", err)
	}
	return ks, nil
}
