// Package storetest is the behaviour suite every store implementation runs,
// so that the embedded SQLite store and the PostgreSQL store answer alike.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/auth"
)

// AuthStore is what a store provides to package auth.
type AuthStore interface {
	auth.ClientRegistry
	auth.KeyStore
}

// RunAuth runs the auth store suite. open must return a new, empty store
// for each call and arrange its cleanup with t.Cleanup.
func RunAuth(t *testing.T, open func(t *testing.T) AuthStore) {
	t.Helper()
	base := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	client := func(id string, created time.Time, projects ...string) *auth.Client {
		return &auth.Client{
			ID: id, Account: "ACME", Projects: projects, Name: "Payroll portal " + id,
			SecretHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$" + id,
			CreatedAt:  created, UpdatedAt: created,
		}
	}

	t.Run("client round trip", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := client("c1", base, "payroll", "hr")
		mustCreate(t, s, want)
		got, err := s.Client(t.Context(), "c1")
		if err != nil {
			t.Fatalf("Client(c1) = %v", err)
		}
		want.Projects = []string{"hr", "payroll"} // stores return them sorted
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Client(c1) (-want +got):\n%s", diff)
		}
	})

	t.Run("unknown client", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if _, err := s.Client(t.Context(), "nope"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Client(nope) = %v, want ErrNotFound", err)
		}
		c := client("nope", base, "p")
		if err := s.UpdateClient(t.Context(), c); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UpdateClient(nope) = %v, want ErrNotFound", err)
		}
	})

	t.Run("duplicate client", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, client("c1", base, "p"))
		dup := client("c1", base.Add(time.Hour), "q")
		dup.Account = "OTHER"
		if err := s.CreateClient(t.Context(), dup); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateClient(duplicate) = %v, want ErrConflict", err)
		}
		got, err := s.Client(t.Context(), "c1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Account != "ACME" || !cmp.Equal(got.Projects, []string{"p"}) {
			t.Errorf("after a rejected duplicate, client = %+v, want the original", got)
		}
	})

	t.Run("update", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustCreate(t, s, client("c1", base, "payroll", "hr"))
		want := client("c1", base, "legal")
		want.Disabled = true
		want.Name = "renamed"
		want.SecretHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$rotated"
		want.UpdatedAt = base.Add(time.Minute)
		if err := s.UpdateClient(t.Context(), want); err != nil {
			t.Fatalf("UpdateClient = %v", err)
		}
		got, err := s.Client(t.Context(), "c1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after UpdateClient (-want +got):\n%s", diff)
		}
	})

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		got, err := s.ListClients(t.Context())
		if err != nil {
			t.Fatalf("ListClients(empty) = %v", err)
		}
		if len(got) != 0 {
			t.Errorf("ListClients(empty) = %d clients, want 0", len(got))
		}
		var want []*auth.Client
		for i, id := range []string{"b", "a", "c"} {
			c := client(id, base.Add(time.Duration(i%2)*time.Second), fmt.Sprintf("p%d", i), "shared")
			mustCreate(t, s, c)
			want = append(want, c)
		}
		got, err = s.ListClients(t.Context())
		if err != nil {
			t.Fatalf("ListClients = %v", err)
		}
		// Ordered by creation time, then id: b and c were created at
		// base, a one second later.
		wantOrder := []string{"b", "c", "a"}
		var gotOrder []string
		for _, c := range got {
			gotOrder = append(gotOrder, c.ID)
		}
		if diff := cmp.Diff(wantOrder, gotOrder); diff != "" {
			t.Errorf("ListClients order (-want +got):\n%s", diff)
		}
		byID := map[string]*auth.Client{}
		for _, c := range want {
			byID[c.ID] = c
		}
		for _, c := range got {
			if diff := cmp.Diff(byID[c.ID], c); diff != "" {
				t.Errorf("ListClients: client %s (-want +got):\n%s", c.ID, diff)
			}
		}
	})

	t.Run("first token key", func(t *testing.T) {
		t.Parallel()
		checkFirstTokenKey(t, open(t))
	})

	t.Run("token keys", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		got, err := s.TokenKeys(t.Context())
		if err != nil {
			t.Fatalf("TokenKeys(empty) = %v", err)
		}
		if len(got) != 0 {
			t.Errorf("TokenKeys(empty) = %d keys, want 0", len(got))
		}
		k2 := &auth.TokenKey{ID: "k2", Algorithm: "ES256", PublicKey: []byte{1, 2}, SealedPrivateKey: []byte{3, 4, 0}, CreatedAt: base.Add(time.Hour)}
		k1 := &auth.TokenKey{ID: "k1", Algorithm: "ES256", PublicKey: []byte{5}, SealedPrivateKey: []byte{6, 7}, CreatedAt: base}
		for _, k := range []*auth.TokenKey{k2, k1} {
			if err := s.AddTokenKey(t.Context(), k); err != nil {
				t.Fatalf("AddTokenKey(%s) = %v", k.ID, err)
			}
		}
		if err := s.AddTokenKey(t.Context(), &auth.TokenKey{ID: "k1", Algorithm: "ES256", PublicKey: []byte{9}, SealedPrivateKey: []byte{9}, CreatedAt: base}); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("AddTokenKey(duplicate) = %v, want ErrConflict", err)
		}
		got, err = s.TokenKeys(t.Context())
		if err != nil {
			t.Fatalf("TokenKeys = %v", err)
		}
		if diff := cmp.Diff([]*auth.TokenKey{k1, k2}, got); diff != "" {
			t.Errorf("TokenKeys (-want +got):\n%s", diff)
		}
	})
}

// checkFirstTokenKey has servers that start together on an empty store
// each try to add the first token key: exactly one may.
func checkFirstTokenKey(t *testing.T, s AuthStore) {
	const callers = 16
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		mu     sync.Mutex
		winner []string
	)
	for i := range callers {
		wg.Go(func() {
			<-start
			k := &auth.TokenKey{ID: fmt.Sprintf("first-%d", i), Algorithm: "ES256", PublicKey: []byte{byte(i)}, SealedPrivateKey: []byte{byte(i)}, CreatedAt: base}
			added, err := s.AddFirstTokenKey(t.Context(), k)
			if err != nil {
				t.Errorf("AddFirstTokenKey(%s) = %v", k.ID, err)
				return
			}
			if added {
				mu.Lock()
				winner = append(winner, k.ID)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winner) != 1 {
		t.Fatalf("%d of %d concurrent AddFirstTokenKey calls added a key (%v), want exactly 1", len(winner), callers, winner)
	}
	got, err := s.TokenKeys(t.Context())
	if err != nil {
		t.Fatalf("TokenKeys = %v", err)
	}
	if len(got) != 1 || got[0].ID != winner[0] {
		t.Fatalf("TokenKeys after the race = %v, want only %s", got, winner[0])
	}
	late := &auth.TokenKey{ID: "late", Algorithm: "ES256", PublicKey: []byte{1}, SealedPrivateKey: []byte{1}, CreatedAt: base}
	if added, err := s.AddFirstTokenKey(t.Context(), late); err != nil || added {
		t.Errorf("AddFirstTokenKey on a store with a key = %v, %v; want false, nil", added, err)
	}
}

func mustCreate(t *testing.T, s AuthStore, c *auth.Client) {
	t.Helper()
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient(%s) = %v", c.ID, err)
	}
}
