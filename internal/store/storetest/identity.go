package storetest

import (
	"errors"
	"testing"
	"time"

	"sello/internal/identity"
	"sello/internal/identity/identitytest"
)

// RunIdentity runs the identity store suite: the behaviour every
// identity.Store has (identitytest.TestStore), then what a store shared by
// several processes adds. open must return a new, empty store for each call
// and arrange its cleanup with t.Cleanup.
func RunIdentity(t *testing.T, open func(t *testing.T) identity.Store) {
	t.Helper()
	identitytest.TestStore(t, open)

	t.Run("ConsumeStampsTime", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		tr := &identity.Transaction{
			Number: "t1", Account: "ACME", Name: "João Gonçalves", IDNumber: "1",
			Status: identity.StatusApproved, CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 1, time.UTC),
		}
		if err := s.CreateTransaction(t.Context(), tr); err != nil {
			t.Fatalf("CreateTransaction = %v", err)
		}
		before := time.Now()
		if err := s.Consume(t.Context(), "ACME", "t1"); err != nil {
			t.Fatalf("Consume = %v", err)
		}
		after := time.Now()
		got, err := s.Transaction(t.Context(), "ACME", "t1")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if got.ConsumedAt == nil || got.ConsumedAt.Before(before.Truncate(time.Microsecond)) || got.ConsumedAt.After(after) {
			t.Errorf("ConsumedAt = %v, want between %v and %v", got.ConsumedAt, before, after)
		}
		if got.ConsumedAt != nil && got.ConsumedAt.Location() != time.UTC {
			t.Errorf("ConsumedAt location = %v, want UTC", got.ConsumedAt.Location())
		}
	})

	t.Run("CreateConsumed", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		consumed := time.Date(2026, 3, 1, 12, 0, 0, 987654321, time.UTC)
		tr := &identity.Transaction{
			Number: "t2", Account: "ACME", Name: "Ana", IDNumber: "2",
			Status: identity.StatusRejected, CreatedAt: consumed.Add(-time.Hour), ConsumedAt: &consumed,
		}
		if err := s.CreateTransaction(t.Context(), tr); err != nil {
			t.Fatalf("CreateTransaction = %v", err)
		}
		if err := s.Consume(t.Context(), "ACME", "t2"); !errors.Is(err, identity.ErrConsumed) {
			t.Errorf("Consume(already consumed) = %v, want %v", err, identity.ErrConsumed)
		}
		got, err := s.Transaction(t.Context(), "ACME", "t2")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if got.ConsumedAt == nil || !got.ConsumedAt.Equal(consumed) {
			t.Errorf("ConsumedAt = %v, want %v", got.ConsumedAt, consumed)
		}
		if got.Status != identity.StatusRejected {
			t.Errorf("Status = %q, want %q", got.Status, identity.StatusRejected)
		}
	})
}
