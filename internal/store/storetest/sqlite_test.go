package storetest_test

import (
	"path/filepath"
	"testing"

	"sello/internal/identity"
	"sello/internal/store/sqlite"
	"sello/internal/store/storetest"
)

func mustOpenSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sello.db")
	d, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("sqlite.Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	t.Run("auth", func(t *testing.T) {
		t.Parallel()
		storetest.RunAuth(t, func(t *testing.T) storetest.AuthStore { return mustOpenSQLite(t) })
	})
	t.Run("identity", func(t *testing.T) {
		t.Parallel()
		storetest.RunIdentity(t, func(t *testing.T) identity.Store { return mustOpenSQLite(t) })
	})
	t.Run("audit", func(t *testing.T) {
		t.Parallel()
		storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore { return mustOpenSQLite(t) })
	})
}
