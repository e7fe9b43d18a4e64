package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sello/internal/identity"
)

var _ identity.Store = (*DB)(nil)

const transactionColumns = `number, account, name, id_type, id_number, email, status,
	created_at, expires_at, revoked_at, consumed_at`

// Transaction returns the transaction with the given number, whatever its
// account (the identity checker compares accounts), or identity.ErrNotFound.
func (d *DB) Transaction(ctx context.Context, account, number string) (*identity.Transaction, error) {
	t, err := scanTransaction(d.pool.QueryRow(ctx,
		`SELECT `+transactionColumns+` FROM identity_transactions WHERE number = $1`, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read transaction %q: %w", number, err)
	}
	return t, nil
}

// Consume marks the account's transaction consumed now. A single
// conditional UPDATE decides the race: the row lock makes concurrent
// callers on any node wait for each other, and each re-checks that
// consumed_at is still NULL, so exactly one changes the row and the others
// get identity.ErrConsumed. An unknown number, or one of another account,
// gives identity.ErrNotFound.
func (d *DB) Consume(ctx context.Context, account, number string) error {
	tag, err := d.pool.Exec(ctx,
		`UPDATE identity_transactions SET consumed_at = $1
		WHERE number = $2 AND account = $3 AND consumed_at IS NULL`,
		time.Now().UnixNano(), number, account)
	if err != nil {
		return fmt.Errorf("postgres: consume transaction %q: %w", number, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := d.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM identity_transactions WHERE number = $1 AND account = $2)`,
		number, account).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: consume transaction %q: %w", number, err)
	}
	if !exists {
		return fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	return fmt.Errorf("transaction %q: %w", number, identity.ErrConsumed)
}

// CreateTransaction stores t. It returns identity.ErrInvalid when t does not
// validate and identity.ErrConflict when the number is taken.
func (d *DB) CreateTransaction(ctx context.Context, t *identity.Transaction) error {
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := d.pool.Exec(ctx,
		`INSERT INTO identity_transactions (`+transactionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.Number, t.Account, t.Name, t.IDType, t.IDNumber, t.Email, string(t.Status),
		nanos(t.CreatedAt), nullNanos(t.ExpiresAt), nullNanosPtr(t.RevokedAt), nullNanosPtr(t.ConsumedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("transaction %q: %w", t.Number, identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create transaction %q: %w", t.Number, err)
	}
	return nil
}

// ListTransactions returns the account's transactions, or every account's
// when account is empty, newest first, ties broken by number.
func (d *DB) ListTransactions(ctx context.Context, account string) ([]identity.Transaction, error) {
	q := `SELECT ` + transactionColumns + ` FROM identity_transactions`
	var args []any
	if account != "" {
		q += ` WHERE account = $1`
		args = append(args, account)
	}
	// COLLATE "C" orders numbers by their bytes, as the SQLite store does,
	// whatever the database's collation.
	q += ` ORDER BY created_at DESC, number COLLATE "C" ASC`
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list transactions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (identity.Transaction, error) {
		t, err := scanTransaction(row)
		if err != nil {
			return identity.Transaction{}, err
		}
		return *t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list transactions: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// RevokeTransaction marks the transaction revoked at the given time, keeping
// an earlier revocation time. It returns identity.ErrNotFound for an unknown
// number.
func (d *DB) RevokeTransaction(ctx context.Context, number string, at time.Time) error {
	tag, err := d.pool.Exec(ctx,
		`UPDATE identity_transactions SET revoked_at = COALESCE(revoked_at, $1) WHERE number = $2`,
		nanos(at), number)
	if err != nil {
		return fmt.Errorf("postgres: revoke transaction %q: %w", number, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	return nil
}

func scanTransaction(row pgx.Row) (*identity.Transaction, error) {
	var (
		t                          identity.Transaction
		status                     string
		created                    int64
		expires, revoked, consumed *int64
	)
	if err := row.Scan(&t.Number, &t.Account, &t.Name, &t.IDType, &t.IDNumber, &t.Email, &status,
		&created, &expires, &revoked, &consumed); err != nil {
		return nil, err
	}
	t.Status = identity.Status(status)
	t.CreatedAt = instant(created)
	if expires != nil {
		t.ExpiresAt = instant(*expires)
	}
	t.RevokedAt = instantPtr(revoked)
	t.ConsumedAt = instantPtr(consumed)
	return &t, nil
}
