package identitytest

import (
	"testing"

	"sello/internal/identity"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	TestStore(t, func(t *testing.T) identity.Store { return NewMemory(nil) })
}
