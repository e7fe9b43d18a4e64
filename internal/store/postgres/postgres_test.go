package postgres

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sello/internal/auth"
	"sello/internal/identity"
	"sello/internal/identity/identitytest"
	"sello/internal/signing"
	"sello/internal/store/storetest"
)

func TestMigrations(t *testing.T) {
	t.Parallel()
	// The SQLite store has the same four; a new one belongs in both.
	if diff := cmp.Diff([]int{1, 2, 3, 4}, storetest.MigrationVersions(t, migrationFiles)); diff != "" {
		t.Errorf("embedded migrations (-want +got):\n%s", diff)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("fresh database", func(t *testing.T) {
		t.Parallel()
		d := mustOpen(t)
		storetest.CheckApplied(t, d, migrationFiles)
		if err := d.Ping(t.Context()); err != nil {
			t.Errorf("Ping = %v", err)
		}
	})
	t.Run("reopen applies nothing twice", func(t *testing.T) {
		t.Parallel()
		dsn := mustDatabase(t)
		mustOpenDSN(t, dsn).Close()
		d := mustOpenDSN(t, dsn)
		storetest.CheckApplied(t, d, migrationFiles)
	})
	t.Run("nodes starting at once", func(t *testing.T) {
		t.Parallel()
		dsn := mustDatabase(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				d, err := Open(t.Context(), dsn)
				if err == nil {
					d.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open #%d = %v", i, err)
			}
		}
		d := mustOpenDSN(t, dsn)
		storetest.CheckApplied(t, d, migrationFiles)
	})
}

func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Pa55"
	tests := []struct {
		name string
		dsn  string
	}{
		{"unparsable URL", "postgres://sello:" + password + "@127.0.0.1:notaport/sello"},
		{"bad keyword", "host=127.0.0.1 password=" + password + " nonsense"},
		{"nobody listening", "postgres://sello:" + password + "@127.0.0.1:1/sello?sslmode=disable&connect_timeout=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Open(t.Context(), tt.dsn)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%s) = nil error, want an error", tt.name)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Open error shows the password: %v", err)
			}
		})
	}
}

// TestClosedIsAFault checks that a store that cannot answer reports a
// fault, never a domain outcome such as "not found".
func TestClosedIsAFault(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	d.Close()
	checks := []struct {
		name string
		err  error
	}{
		{"Client", second(d.Client(t.Context(), "c1"))},
		{"Transaction", second(d.Transaction(t.Context(), "ACME", "t1"))},
		{"Consume", d.Consume(t.Context(), "ACME", "t1")},
		{"RevokeTransaction", d.RevokeTransaction(t.Context(), "t1", time.Now())},
		{"UpdateClient", d.UpdateClient(t.Context(), &auth.Client{ID: "c1"})},
		{"Ping", d.Ping(t.Context())},
	}
	for _, c := range checks {
		switch {
		case c.err == nil:
			t.Errorf("%s on a closed store = nil, want an error", c.name)
		case errors.Is(c.err, auth.ErrNotFound), errors.Is(c.err, identity.ErrNotFound),
			errors.Is(c.err, identity.ErrConsumed):
			t.Errorf("%s on a closed store = %v, want a fault, not a domain outcome", c.name, c.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestTwoNodes checks that two handles on one database, as two nodes have,
// see each other's writes, and that single use holds across them.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	dsn := mustDatabase(t)
	a, b := mustOpenDSN(t, dsn), mustOpenDSN(t, dsn)
	at := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)

	t.Run("clients", func(t *testing.T) {
		c := &auth.Client{ID: "c1", Account: "ACME", Projects: []string{"p1"}, Name: "n",
			SecretHash: "h", CreatedAt: at, UpdatedAt: at}
		if err := a.CreateClient(t.Context(), c); err != nil {
			t.Fatalf("node a: CreateClient = %v", err)
		}
		got, err := b.Client(t.Context(), "c1")
		if err != nil {
			t.Fatalf("node b: Client = %v", err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("node b: Client (-want +got):\n%s", diff)
		}
		if err := b.CreateClient(t.Context(), c); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("node b: CreateClient(same id) = %v, want %v", err, auth.ErrConflict)
		}
	})
	t.Run("token keys", func(t *testing.T) {
		k := &auth.TokenKey{ID: "k1", Algorithm: "ES256", PublicKey: []byte{1}, SealedPrivateKey: []byte{2}, CreatedAt: at}
		if err := b.AddTokenKey(t.Context(), k); err != nil {
			t.Fatalf("node b: AddTokenKey = %v", err)
		}
		got, err := a.TokenKeys(t.Context())
		if err != nil {
			t.Fatalf("node a: TokenKeys = %v", err)
		}
		if diff := cmp.Diff([]*auth.TokenKey{k}, got); diff != "" {
			t.Errorf("node a: TokenKeys (-want +got):\n%s", diff)
		}
	})
	t.Run("audit", func(t *testing.T) {
		e := signing.AuditEntry{DocumentID: "d1", ReferenceNumber: "r1", Status: signing.StatusSuccess, Time: at}
		if err := a.Record(t.Context(), []signing.AuditEntry{e}); err != nil {
			t.Fatalf("node a: Record = %v", err)
		}
		got, err := b.ListAudit(t.Context(), signing.AuditQuery{})
		if err != nil {
			t.Fatalf("node b: ListAudit = %v", err)
		}
		if diff := cmp.Diff([]signing.AuditEntry{e}, got); diff != "" {
			t.Errorf("node b: ListAudit (-want +got):\n%s", diff)
		}
	})
	t.Run("consume once", func(t *testing.T) {
		const callers = 8
		nodes := []*DB{a, b}
		for round := range 3 {
			number := "race-" + string(rune('a'+round))
			tr := &identity.Transaction{Number: number, Account: "ACME", Name: "José Núñez", IDNumber: "1",
				Status: identity.StatusApproved, CreatedAt: at}
			if err := nodes[round%2].CreateTransaction(t.Context(), tr); err != nil {
				t.Fatalf("CreateTransaction = %v", err)
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  = make([]error, callers)
			)
			for i := range callers {
				wg.Go(func() {
					<-start
					errs[i] = nodes[i%2].Consume(t.Context(), "ACME", number)
				})
			}
			close(start)
			wg.Wait()
			identitytest.CheckOneWinner(t, errs, false)
			for i, n := range nodes {
				got, err := n.Transaction(t.Context(), "ACME", number)
				if err != nil {
					t.Fatalf("node %d: Transaction = %v", i, err)
				}
				if got.ConsumedAt == nil {
					t.Errorf("node %d: ConsumedAt = nil after the race", i)
				}
			}
		}
	})
}
