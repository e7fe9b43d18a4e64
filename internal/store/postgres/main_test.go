package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"sello/internal/store/postgres/pgtest"
)

// The server every test of the package creates its databases on, set once
// by TestMain before any test runs; nil with skipReason when there is none.
var (
	testServer *pgtest.Server
	skipReason string
)

func TestMain(m *testing.M) {
	srv, err := pgtest.Start(context.Background())
	switch {
	case errors.Is(err, pgtest.ErrUnavailable) && !pgtest.Required():
		skipReason = err.Error()
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testServer = srv
	code := m.Run()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// mustDatabase returns the DSN of a new, empty database for t, or skips t
// when there is no server.
func mustDatabase(t *testing.T) string {
	t.Helper()
	if testServer == nil {
		t.Skip(skipReason)
	}
	return testServer.NewDatabase(t)
}

// mustOpenDSN opens dsn and closes it when t ends.
func mustOpenDSN(t *testing.T, dsn string) *DB {
	t.Helper()
	d, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// mustOpen opens a store on a new, empty database.
func mustOpen(t *testing.T) *DB {
	t.Helper()
	return mustOpenDSN(t, mustDatabase(t))
}
