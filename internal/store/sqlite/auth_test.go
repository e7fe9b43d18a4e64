package sqlite

import (
	"path/filepath"
	"testing"

	"sello/internal/store/storetest"
)

func TestAuthStore(t *testing.T) {
	t.Parallel()
	storetest.RunAuth(t, func(t *testing.T) storetest.AuthStore {
		return mustOpen(t, filepath.Join(t.TempDir(), "sello.db"))
	})
}
