// Package identitytest provides an in-memory identity store for tests and a
// behaviour suite that every [identity.Store] implementation must pass.
package identitytest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"sello/internal/identity"
)

// Memory is an [identity.Store] kept in memory. The zero value is not usable;
// call [NewMemory]. It is safe for concurrent use.
type Memory struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]identity.Transaction
}

var _ identity.Store = (*Memory)(nil)

// NewMemory returns an empty store that stamps consumptions with now, or
// with time.Now when now is nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, m: make(map[string]identity.Transaction)}
}

// Transaction returns a copy of the transaction with the given number,
// whatever its account, or identity.ErrNotFound.
func (s *Memory) Transaction(ctx context.Context, account, number string) (*identity.Transaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[number]
	if !ok {
		return nil, fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	return clone(t), nil
}

// Consume marks the account's transaction consumed, or returns
// identity.ErrConsumed or identity.ErrNotFound.
func (s *Memory) Consume(ctx context.Context, account, number string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[number]
	if !ok || t.Account != account {
		return fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	if t.ConsumedAt != nil {
		return fmt.Errorf("transaction %q: %w", number, identity.ErrConsumed)
	}
	at := s.now()
	t.ConsumedAt = &at
	s.m[number] = t
	return nil
}

// CreateTransaction stores a copy of t.
func (s *Memory) CreateTransaction(ctx context.Context, t *identity.Transaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[t.Number]; ok {
		return fmt.Errorf("transaction %q: %w", t.Number, identity.ErrConflict)
	}
	s.m[t.Number] = *clone(*t)
	return nil
}

// ListTransactions returns the account's transactions (all when account is
// empty), newest first, ties broken by number.
func (s *Memory) ListTransactions(ctx context.Context, account string) ([]identity.Transaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []identity.Transaction
	for _, t := range s.m {
		if account == "" || t.Account == account {
			out = append(out, *clone(t))
		}
	}
	slices.SortFunc(out, func(a, b identity.Transaction) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Number, b.Number)
	})
	return out, nil
}

// RevokeTransaction marks the transaction revoked at the given time, unless
// it already was.
func (s *Memory) RevokeTransaction(ctx context.Context, number string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[number]
	if !ok {
		return fmt.Errorf("transaction %q: %w", number, identity.ErrNotFound)
	}
	if t.RevokedAt == nil {
		t.RevokedAt = &at
		s.m[number] = t
	}
	return nil
}

// clone returns a deep copy of t, so callers never share the stored times.
func clone(t identity.Transaction) *identity.Transaction {
	if t.RevokedAt != nil {
		r := *t.RevokedAt
		t.RevokedAt = &r
	}
	if t.ConsumedAt != nil {
		c := *t.ConsumedAt
		t.ConsumedAt = &c
	}
	return &t
}
