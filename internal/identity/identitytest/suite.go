package identitytest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/identity"
)

// TestStore runs the behaviour every [identity.Store] must have. open
// returns a new, empty store for each subtest; it may register cleanups on
// the t it is given. Subtests run in parallel.
func TestStore(t *testing.T, open func(t *testing.T) identity.Store) {
	t.Helper()
	base := time.Date(2026, 3, 1, 10, 30, 0, 123456789, time.UTC)
	mk := func(number, account string, age time.Duration) *identity.Transaction {
		return &identity.Transaction{
			Number:    number,
			Account:   account,
			Name:      "José Núñez",
			IDType:    "CC",
			IDNumber:  "1020304050",
			Email:     "jose@example.com",
			Status:    identity.StatusApproved,
			CreatedAt: base.Add(-age),
			ExpiresAt: base.Add(24 * time.Hour),
		}
	}
	timeEqual := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

	t.Run("CreateThenGet", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := mk("7f3a9c", "ACME", 0)
		want.Email = ""
		want.IDType = ""
		mustCreate(t, s, want)
		got, err := s.Transaction(t.Context(), "ACME", "7f3a9c")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if diff := cmp.Diff(want, got, timeEqual); diff != "" {
			t.Errorf("Transaction mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("NoExpiry", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := mk("n1", "ACME", 0)
		want.ExpiresAt = time.Time{}
		want.Status = identity.StatusPending
		mustCreate(t, s, want)
		got, err := s.Transaction(t.Context(), "ACME", "n1")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if diff := cmp.Diff(want, got, timeEqual); diff != "" {
			t.Errorf("Transaction mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("GetOtherAccountReturnsIt", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, mk("x1", "ACME", 0))
		got, err := s.Transaction(t.Context(), "OTHER", "x1")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if got.Account != "ACME" {
			t.Errorf("Account = %q, want ACME", got.Account)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, mk("dup", "ACME", 0))
		invalid := mk("bad number", "ACME", 0)
		tests := []struct {
			name string
			call func() error
			want error
		}{
			{"GetUnknown", func() error { _, err := s.Transaction(t.Context(), "ACME", "nope"); return err }, identity.ErrNotFound},
			{"CreateDuplicate", func() error { return s.CreateTransaction(t.Context(), mk("dup", "OTHER", 0)) }, identity.ErrConflict},
			{"CreateInvalid", func() error { return s.CreateTransaction(t.Context(), invalid) }, identity.ErrInvalid},
			{"RevokeUnknown", func() error { return s.RevokeTransaction(t.Context(), "nope", base) }, identity.ErrNotFound},
			{"ConsumeUnknown", func() error { return s.Consume(t.Context(), "ACME", "nope") }, identity.ErrNotFound},
			{"ConsumeOtherAccount", func() error { return s.Consume(t.Context(), "OTHER", "dup") }, identity.ErrNotFound},
		}
		for _, tt := range tests {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("%s: error = %v, want %v", tt.name, err, tt.want)
			}
		}
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, mk("a-old", "ACME", 2*time.Hour))
		mustCreate(t, s, mk("b-new", "ACME", 0))
		mustCreate(t, s, mk("c-mid", "OTHER", time.Hour))
		tests := []struct {
			account string
			want    []string
		}{
			{"ACME", []string{"b-new", "a-old"}},
			{"OTHER", []string{"c-mid"}},
			{"NONE", nil},
			{"", []string{"b-new", "c-mid", "a-old"}},
		}
		for _, tt := range tests {
			list, err := s.ListTransactions(t.Context(), tt.account)
			if err != nil {
				t.Fatalf("ListTransactions(%q) = %v", tt.account, err)
			}
			var got []string
			for _, x := range list {
				got = append(got, x.Number)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ListTransactions(%q) mismatch (-want +got):\n%s", tt.account, diff)
			}
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, mk("r1", "ACME", 0))
		first := base.Add(time.Minute)
		for _, at := range []time.Time{first, first.Add(time.Hour)} {
			if err := s.RevokeTransaction(t.Context(), "r1", at); err != nil {
				t.Fatalf("RevokeTransaction = %v", err)
			}
		}
		got, err := s.Transaction(t.Context(), "ACME", "r1")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if got.RevokedAt == nil || !got.RevokedAt.Equal(first) {
			t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, first)
		}
	})
	t.Run("ConsumeOnce", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, mk("c1", "ACME", 0))
		if err := s.Consume(t.Context(), "ACME", "c1"); err != nil {
			t.Fatalf("first Consume = %v", err)
		}
		if err := s.Consume(t.Context(), "ACME", "c1"); !errors.Is(err, identity.ErrConsumed) {
			t.Errorf("second Consume = %v, want %v", err, identity.ErrConsumed)
		}
		got, err := s.Transaction(t.Context(), "ACME", "c1")
		if err != nil {
			t.Fatalf("Transaction = %v", err)
		}
		if got.ConsumedAt == nil {
			t.Error("ConsumedAt = nil after Consume")
		}
	})
	t.Run("ConsumeConcurrently", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const callers = 8
		for round := range 3 {
			number := fmt.Sprintf("race-%d", round)
			mustCreate(t, s, mk(number, "ACME", 0))
			var wg sync.WaitGroup
			errs := make([]error, callers)
			for i := range callers {
				wg.Go(func() { errs[i] = s.Consume(t.Context(), "ACME", number) })
			}
			wg.Wait()
			CheckOneWinner(t, errs, false)
		}
	})
}

func mustCreate(t *testing.T, s identity.Store, tr *identity.Transaction) {
	t.Helper()
	if err := s.CreateTransaction(t.Context(), tr); err != nil {
		t.Fatalf("CreateTransaction(%s) = %v", tr.Number, err)
	}
}
