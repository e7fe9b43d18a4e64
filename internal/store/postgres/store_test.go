package postgres

import (
	"context"
	"testing"

	"sello/internal/identity"
	"sello/internal/store/storetest"
)

// commandStore is what cmd/sello asks of a store: the DB must fit it as the
// SQLite store does.
type commandStore interface {
	storetest.AuthStore
	identity.Store
	storetest.AuditStore
	Ping(ctx context.Context) error
	Close() error
}

var _ commandStore = (*DB)(nil)

func TestAuthStore(t *testing.T) {
	t.Parallel()
	storetest.RunAuth(t, func(t *testing.T) storetest.AuthStore { return mustOpen(t) })
}

func TestIdentityStore(t *testing.T) {
	t.Parallel()
	storetest.RunIdentity(t, func(t *testing.T) identity.Store { return mustOpen(t) })
}

func TestAuditStore(t *testing.T) {
	t.Parallel()
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore { return mustOpen(t) })
}
