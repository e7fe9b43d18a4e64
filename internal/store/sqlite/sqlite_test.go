package sqlite

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"sello/internal/store/storetest"
)

func mustOpen(t *testing.T, path string) *DB {
	t.Helper()
	d, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("fresh file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "sello.db")
		d := mustOpen(t, path)
		storetest.CheckApplied(t, d, migrationFiles)
		var mode string
		if err := d.db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("journal_mode = %q, want wal", mode)
		}
		var fk int
		if err := d.db.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if fk != 1 {
			t.Errorf("foreign_keys = %d, want 1", fk)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode = %v, want 0600", perm)
		}
	})
	t.Run("reopen applies nothing twice", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "sello.db")
		d1 := mustOpen(t, path)
		d1.Close()
		d2 := mustOpen(t, path)
		storetest.CheckApplied(t, d2, migrationFiles)
	})
	t.Run("concurrent opens", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "sello.db")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				d, err := Open(t.Context(), path)
				if err == nil {
					err = d.Close()
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
		d := mustOpen(t, path)
		storetest.CheckApplied(t, d, migrationFiles)
	})
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "absent", "sello.db")
		if d, err := Open(t.Context(), path); err == nil {
			d.Close()
			t.Errorf("Open(%q) = nil error, want an error", path)
		}
	})
}
