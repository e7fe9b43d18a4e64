package sqlite_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"sello/internal/identity"
	"sello/internal/store/sqlite"
)

// TestIdentityConsumeAcrossHandles checks single use when two processes (a
// CLI and the server, or two handles here) share the database file.
func TestIdentityConsumeAcrossHandles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sello.db")
	var dbs []*sqlite.DB
	for range 2 {
		d, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open(%q) = %v", path, err)
		}
		t.Cleanup(func() { d.Close() })
		dbs = append(dbs, d)
	}
	tr := &identity.Transaction{Number: "7f3a9c", Account: "ACME", Name: "José Núñez", IDNumber: "1", Status: identity.StatusApproved, CreatedAt: time.Now()}
	if err := dbs[0].CreateTransaction(t.Context(), tr); err != nil {
		t.Fatalf("CreateTransaction = %v", err)
	}
	if err := dbs[1].Consume(t.Context(), "ACME", "7f3a9c"); err != nil {
		t.Fatalf("Consume through the second handle = %v", err)
	}
	if err := dbs[0].Consume(t.Context(), "ACME", "7f3a9c"); !errors.Is(err, identity.ErrConsumed) {
		t.Fatalf("Consume through the first handle = %v, want %v", err, identity.ErrConsumed)
	}
}
