// Package sqlite is Sello's embedded default store: one SQLite database file
// in the data directory, opened through a pure-Go driver (no cgo), in WAL
// mode so that CLI commands can work on it while the server runs.
//
// # Schema
//
// The schema is a series of embedded migrations, migrations/NNNN_name.sql,
// applied in ascending NNNN order by [Open], each in its own transaction and
// recorded in the table schema_migrations. A migration, once released, is
// never edited: a change to the schema is a new file.
//
// # Domain stores
//
// Each domain that keeps state here (auth, identity, signing) has its own
// file of methods on [*DB] that implement the interfaces the domain package
// declares, and translates driver errors into the domain's sentinels
// (ErrNotFound, ErrConflict). The SQL stays portable, so a PostgreSQL store
// can implement the same interfaces: TEXT identifiers, INTEGER Unix
// nanoseconds for instants, no SQLite-only features in the domain.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"sello/internal/store/migrate"
)

// busyTimeout is how long a statement waits for another connection or
// process (a CLI command while the server runs) to release its lock before
// it fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is an open Sello database. It is safe for concurrent use by multiple
// goroutines, and several processes may open the same file at once.
type DB struct {
	db *sql.DB
}

// Open opens the database file at path, creating it (mode 0600) when it does
// not exist; the directory must exist. It turns on WAL journaling, a busy
// timeout and foreign-key enforcement for every connection, and applies the
// pending migrations, each in one transaction, recording their versions in
// schema_migrations. Write transactions take the database lock when they
// begin (BEGIN IMMEDIATE), so concurrent writers wait for each other instead
// of failing with a lock upgrade error.
//
// The caller must Close the returned DB.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: invalid database path", path)
	}
	// Create the file ourselves so that it is private to the service user
	// from the start: it holds secret hashes and encrypted keys.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	dsn := path + "?" + strings.Join([]string{
		"_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10),
		"_journal_mode=WAL",
		"_foreign_keys=1",
		"_synchronous=NORMAL",
		"_txlock=immediate",
	}, "&")
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d := &DB{db: sdb}
	if err := d.migrate(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database. It waits for running queries to finish.
func (d *DB) Close() error {
	return d.db.Close()
}

// migrate applies every migration not yet recorded in schema_migrations.
// Another process may be migrating the same file at the same time: each
// migration re-checks its version inside its own (immediate) transaction, so
// it runs exactly once.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := d.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration in a transaction unless it is already recorded.
func (d *DB) apply(ctx context.Context, m migrate.Migration) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var n int
	if err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: check version: %w", m.Name, err)
	}
	if n > 0 {
		return tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return nil
}

// Ping checks that the database answers, for readiness probes.
func (d *DB) Ping(ctx context.Context) error {
	return d.db.PingContext(ctx)
}

// SchemaVersions returns the versions of the migrations applied to the
// database, in ascending order.
func (d *DB) SchemaVersions(ctx context.Context) ([]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: schema versions: %w", err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: schema versions: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: schema versions: %w", err)
	}
	return vs, nil
}
