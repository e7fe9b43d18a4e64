// Package postgres is Sello's store for multi-node deployments: the same
// data as the embedded SQLite store (API clients, token-signing keys,
// identity-validation transactions, the audit log) kept in one PostgreSQL
// database that every node shares. It talks to the server through a
// connection pool of the pgx driver.
//
// # Schema
//
// The schema is a series of embedded migrations, migrations/NNNN_name.sql,
// with the same tables and columns as the SQLite store's. [Open] applies the
// pending ones in ascending NNNN order, each in its own transaction, and
// records their versions in the table schema_migrations. Each of those
// transactions first takes a transaction-scoped advisory lock
// (pg_advisory_xact_lock), so that nodes starting at the same time migrate
// one after another and every migration runs exactly once. A migration, once
// released, is never edited: a change to the schema is a new file.
//
// Instants are stored as BIGINT Unix nanoseconds, so that they come back
// exactly as they were given, as in the SQLite store.
//
// # Domain stores
//
// Each domain that keeps state here (auth, identity, signing) has its own
// file of methods on [*DB] that implement the interfaces the domain package
// declares, and translates driver errors into the domain's sentinels: a
// missing row gives ErrNotFound, a unique violation (SQLSTATE 23505) gives
// ErrConflict.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sello/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the advisory lock taken by every migration
// transaction: "sello" followed by 1, as a big-endian int64.
const migrationLock int64 = 0x73656c6c6f000001

// uniqueViolation is the SQLSTATE of a unique or primary key violation.
const uniqueViolation = "23505"

// DB is an open Sello database on a PostgreSQL server. It is safe for
// concurrent use by multiple goroutines, and any number of nodes may open
// the same database at once.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the PostgreSQL database that dsn names, checks that the
// server answers, and applies the pending migrations. dsn is either a URL
// (postgres://user:password@host:5432/sello?sslmode=verify-full) or
// keyword/value pairs (host=db.internal dbname=sello user=sello); the
// settings of libpq, including pool_max_conns and the PG* environment
// variables, apply. Errors never show the password.
//
// The caller must Close the returned DB.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The driver's parse error redacts the password.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	d := &DB{pool: pool}
	if err := d.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return d, nil
}

// Close closes every connection of the pool. It waits for the connections
// in use to be released, and always returns nil: the error result matches
// the SQLite store's Close.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Ping checks that the server answers, for readiness probes.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// SchemaVersions returns the versions of the migrations applied to the
// database, in ascending order.
func (d *DB) SchemaVersions(ctx context.Context) ([]int, error) {
	rows, err := d.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("postgres: schema versions: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("postgres: schema versions: %w", err)
	}
	return vs, nil
}

// migrate creates schema_migrations when it is missing and applies every
// migration not yet recorded there.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	// Two sessions running CREATE TABLE IF NOT EXISTS at once may both find
	// the table missing and one then fails on the catalog's unique index,
	// so this too runs under the lock.
	err = d.locked(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at BIGINT  NOT NULL
)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := d.locked(ctx, func(tx pgx.Tx) error { return apply(ctx, tx, m) }); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// locked runs f in a transaction that holds the migration lock, and commits
// when f succeeds. The lock is released when the transaction ends.
func (d *DB) locked(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		return f(tx)
	})
}

// apply runs m in tx unless its version is already recorded.
func apply(ctx context.Context, tx pgx.Tx, m migrate.Migration) error {
	var done bool
	if err := tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
		return fmt.Errorf("check version: %w", err)
	}
	if done {
		return nil
	}
	// Exec without arguments uses the simple protocol, which accepts
	// several statements in one string.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("record version: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is a unique or primary key
// violation reported by the server.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == uniqueViolation
}

// nanos returns t as Unix nanoseconds, the form instants are stored in.
func nanos(t time.Time) int64 {
	return t.UnixNano()
}

// instant returns the UTC time of n Unix nanoseconds.
func instant(n int64) time.Time {
	return time.Unix(0, n).UTC()
}

// nullNanos returns t as Unix nanoseconds, or nil (SQL NULL) for the zero
// time.
func nullNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// nullNanosPtr is nullNanos of *t, or nil when t is nil.
func nullNanosPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	return nullNanos(*t)
}

// instantPtr returns the UTC time of *n Unix nanoseconds, or nil when n is
// nil (SQL NULL).
func instantPtr(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := instant(*n)
	return &t
}
