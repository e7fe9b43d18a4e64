package storetest

import (
	"context"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sello/internal/store/migrate"
)

// Versioned is a store that reports the schema versions it has applied.
type Versioned interface {
	SchemaVersions(ctx context.Context) ([]int, error)
}

// MigrationVersions returns the versions of the migrations in the
// "migrations" folder of fsys, as the store embeds them.
func MigrationVersions(t *testing.T, fsys fs.FS) []int {
	t.Helper()
	ms, err := migrate.Load(fsys, "migrations")
	if err != nil {
		t.Fatalf("migrate.Load = %v", err)
	}
	return migrate.Versions(ms)
}

// CheckApplied fails the test unless s has applied exactly the migrations
// of fsys.
func CheckApplied(t *testing.T, s Versioned, fsys fs.FS) {
	t.Helper()
	got, err := s.SchemaVersions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(MigrationVersions(t, fsys), got); diff != "" {
		t.Errorf("applied migrations (-want +got):\n%s", diff)
	}
}
