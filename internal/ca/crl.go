package ca

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// CRL returns a DER CRL (RFC 5280 §5) signed by the CA that revokes
// nothing: issued certificates live for Options.Validity only and are never
// revoked, and a validator that wants revocation data for them (PAdES B-LT
// keeps it in the document's DSS) finds here that they were not. It is
// valid from a minute ago until Options.Validity from now, at least one
// hour. The CRL number is the issue time in seconds, so CRLs from several
// nodes sharing the CA key still increase. Errors come from ctx or the CA
// signer.
func (c *CA) CRL(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := c.opts.now()
	validity := max(c.opts.Validity, time.Hour)
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(now.Unix()),
		ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(validity),
	}
	der, err := x509.CreateRevocationList(c.opts.rand(), tmpl, c.cert, c.signer)
	if err != nil {
		return nil, fmt.Errorf("ca: create CRL: %w", err)
	}
	return der, nil
}
