package sqlite

import (
	"path/filepath"
	"testing"

	"sello/internal/identity"
	"sello/internal/store/storetest"
)

// The behaviour every store shares is tested once, in storetest, and run
// here against SQLite as internal/store/postgres runs it against PostgreSQL.

func mustOpenTemp(t *testing.T) *DB {
	t.Helper()
	return mustOpen(t, filepath.Join(t.TempDir(), "sello.db"))
}

func TestAuthStore(t *testing.T) {
	t.Parallel()
	storetest.RunAuth(t, func(t *testing.T) storetest.AuthStore { return mustOpenTemp(t) })
}

func TestIdentityStore(t *testing.T) {
	t.Parallel()
	storetest.RunIdentity(t, func(t *testing.T) identity.Store { return mustOpenTemp(t) })
}

func TestAuditStore(t *testing.T) {
	t.Parallel()
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore { return mustOpenTemp(t) })
}
