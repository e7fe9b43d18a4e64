package auth

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"sello/internal/clocktest"
)

// memStore is an in-memory ClientRegistry and KeyStore for the tests of
// this package; the real stores run the storetest suite.
type memStore struct {
	mu      sync.Mutex
	clients map[string]Client
	keys    []*TokenKey
	reads   int // TokenKeys calls
}

func newMemStore() *memStore { return &memStore{clients: make(map[string]Client)} }

func (m *memStore) Client(ctx context.Context, id string) (*Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", id, ErrNotFound)
	}
	c.Projects = slices.Clone(c.Projects)
	return &c, nil
}

func (m *memStore) CreateClient(ctx context.Context, c *Client) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[c.ID]; ok {
		return ErrConflict
	}
	m.clients[c.ID] = *c
	return nil
}

func (m *memStore) UpdateClient(ctx context.Context, c *Client) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[c.ID]; !ok {
		return ErrNotFound
	}
	m.clients[c.ID] = *c
	return nil
}

func (m *memStore) ListClients(ctx context.Context) ([]*Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cs []*Client
	for _, c := range m.clients {
		cs = append(cs, &c)
	}
	return cs, nil
}

func (m *memStore) AddTokenKey(ctx context.Context, k *TokenKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.ID == k.ID {
			return ErrConflict
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memStore) AddFirstTokenKey(ctx context.Context, k *TokenKey) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.keys) > 0 {
		return false, nil
	}
	m.keys = append(m.keys, k)
	return true, nil
}

func (m *memStore) TokenKeys(ctx context.Context) ([]*TokenKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return slices.Clone(m.keys), nil
}

func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
}
