package postgres

import (
	"testing"

	"sello/internal/identity"
	"sello/internal/store/storetest"
)

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
