package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sello/internal/identity"
)

var _ identity.Store = (*DB)(nil)

const transactionColumns = `number, account, name, id_type, id_number, email, status,
	created_at, expires_at, revoked_at, consumed_at`

// Transaction returns the transaction with the given number, whatever its
// account (the identity checker compares accounts), or identity.ErrNotFound.
func (d *DB) Transaction(ctx context.Context, account, number string) (*identity.Transaction, error) {
	row := d.db.QueryRowContext(ctx,
		`SELECT `+transactionColumns+` FROM identity_transactions WHERE number = ?`, number)
	t, err := scanTransaction(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read transaction %q: %w", number, err)
	}
	return t, nil
}

// Consume marks the account's transaction consumed now. A single
// conditional UPDATE decides the race: exactly one of any number of
// concurrent callers (in any process) changes the row; the others get
// identity.ErrConsumed. An unknown number, or one of another account, gives
// identity.ErrNotFound.
func (d *DB) Consume(ctx context.Context, account, number string) error {
	res, err := d.db.ExecContext(ctx,
		`UPDATE identity_transactions SET consumed_at = ?
		WHERE number = ? AND account = ? AND consumed_at IS NULL`,
		time.Now().UnixNano(), number, account)
	if err != nil {
		return fmt.Errorf("sqlite: consume transaction %q: %w", number, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: consume transaction %q: %w", number, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = d.db.QueryRowContext(ctx,
		`SELECT 1 FROM identity_transactions WHERE number = ? AND account = ?`, number, account).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: consume transaction %q: %w", number, err)
	}
	return fmt.Errorf("transaction %q: %w", number, identity.ErrConsumed)
}

// CreateTransaction stores t. It returns identity.ErrInvalid when t does not
// validate and identity.ErrConflict when the number is taken.
func (d *DB) CreateTransaction(ctx context.Context, t *identity.Transaction) error {
	if err := t.Validate(); err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx,
		`INSERT INTO identity_transactions (`+transactionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (number) DO NOTHING`,
		t.Number, t.Account, t.Name, t.IDType, t.IDNumber, t.Email, string(t.Status),
		t.CreatedAt.UnixNano(), nullTime(t.ExpiresAt), nullTimePtr(t.RevokedAt), nullTimePtr(t.ConsumedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create transaction %q: %w", t.Number, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: create transaction %q: %w", t.Number, err)
	}
	if n == 0 {
		return fmt.Errorf("transaction %q: %w", t.Number, identity.ErrConflict)
	}
	return nil
}

// ListTransactions returns the account's transactions, or every account's
// when account is empty, newest first, ties broken by number.
func (d *DB) ListTransactions(ctx context.Context, account string) ([]identity.Transaction, error) {
	q := `SELECT ` + transactionColumns + ` FROM identity_transactions`
	var args []any
	if account != "" {
		q += ` WHERE account = ?`
		args = append(args, account)
	}
	q += ` ORDER BY created_at DESC, number ASC`
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list transactions: %w", err)
	}
	defer rows.Close()
	var out []identity.Transaction
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list transactions: %w", err)
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list transactions: %w", err)
	}
	return out, nil
}

// RevokeTransaction marks the transaction revoked at the given time, keeping
// an earlier revocation time. It returns identity.ErrNotFound for an unknown
// number.
func (d *DB) RevokeTransaction(ctx context.Context, number string, at time.Time) error {
	res, err := d.db.ExecContext(ctx,
		`UPDATE identity_transactions SET revoked_at = COALESCE(revoked_at, ?) WHERE number = ?`,
		at.UnixNano(), number)
	if err != nil {
		return fmt.Errorf("sqlite: revoke transaction %q: %w", number, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: revoke transaction %q: %w", number, err)
	}
	if n == 0 {
		return fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanTransaction(s scanner) (*identity.Transaction, error) {
	var (
		t                          identity.Transaction
		status                     string
		created                    int64
		expires, revoked, consumed sql.NullInt64
	)
	if err := s.Scan(&t.Number, &t.Account, &t.Name, &t.IDType, &t.IDNumber, &t.Email, &status,
		&created, &expires, &revoked, &consumed); err != nil {
		return nil, err
	}
	t.Status = identity.Status(status)
	t.CreatedAt = time.Unix(0, created).UTC()
	if expires.Valid {
		t.ExpiresAt = time.Unix(0, expires.Int64).UTC()
	}
	t.RevokedAt = timePtr(revoked)
	t.ConsumedAt = timePtr(consumed)
	return &t, nil
}

func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func nullTimePtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return nullTime(*t)
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(0, n.Int64).UTC()
	return &t
}
