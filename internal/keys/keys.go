// Package keys defines the signing key the rest of Sello uses: a
// crypto.Signer together with its certificate chain, and the Provider
// interface through which key stores (files, PKCS#11 tokens) hand them out.
package keys

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
)

// Key is a private key that can sign, with the certificate chain that
// identifies it. Chain[0] is the certificate of Signer's public key; the
// rest lead towards a root (the root itself may be omitted).
//
// A Key is safe for concurrent use when its Signer is.
type Key struct {
	Signer crypto.Signer
	Chain  []*x509.Certificate
}

// Certificate returns the signer's own certificate, or nil when the chain is
// empty.
func (k *Key) Certificate() *x509.Certificate {
	if k == nil || len(k.Chain) == 0 {
		return nil
	}
	return k.Chain[0]
}

// Provider hands out a signing key. Implementations must be safe for
// concurrent use.
type Provider interface {
	// Key returns the key to sign with. It returns ErrUnavailable, wrapped,
	// when the store cannot be reached.
	Key(ctx context.Context) (*Key, error)
}

// ErrUnavailable reports that a key store cannot be reached or used.
var ErrUnavailable = errors.New("keys: key store unavailable")
