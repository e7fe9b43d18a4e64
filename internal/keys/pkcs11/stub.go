//go:build !cgo

package pkcs11

import (
	"context"

	"sello/internal/keys"
)

// Store is a signing key in a PKCS#11 token. This build has no cgo, so no
// Store can be opened.
type Store struct{}

var _ keys.Provider = (*Store)(nil)

// Open always fails with [ErrNotSupported] in a build without cgo, after
// checking opts so that configuration mistakes are still reported.
func Open(opts Options) (*Store, error) {
	if _, err := opts.resolve(); err != nil {
		return nil, err
	}
	return nil, ErrNotSupported
}

// Key always fails with [ErrNotSupported].
func (s *Store) Key(ctx context.Context) (*keys.Key, error) { return nil, ErrNotSupported }

// Close does nothing.
func (s *Store) Close() error { return nil }
