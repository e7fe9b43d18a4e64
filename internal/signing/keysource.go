package signing

import (
	"context"
	"fmt"

	"sello/internal/ca"
	"sello/internal/identity"
	"sello/internal/keys"
)

// CAKeys is the on-demand [KeySource] (DESIGN.md §3 (a)): the service CA
// issues a short-lived certificate naming the validated signer, over a
// fresh key that lives only for the batch. A signer whose data cannot go
// into a certificate gives an error wrapping ca.ErrInvalidPerson, which
// fails every document of the batch with the identity errorReason.
type CAKeys struct {
	CA      *ca.CA
	Options ca.IssueOptions
}

var _ KeySource = CAKeys{}

// Key issues a certificate and key for signer.
func (k CAKeys) Key(ctx context.Context, signer *identity.Signer) (*keys.Key, error) {
	key, err := k.CA.Issue(ctx, ca.Person{
		Name:     signer.Name,
		IDType:   signer.IDType,
		IDNumber: signer.IDNumber,
		Email:    signer.Email,
	}, k.Options)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	return key, nil
}

// SealKey is the organisation-seal [KeySource] (DESIGN.md §3 (b)): every
// batch is signed with the key of a provider (a file or a PKCS#11 token),
// whoever the signer is.
type SealKey struct {
	Provider keys.Provider
}

var _ KeySource = SealKey{}

// Key returns the provider's key.
func (k SealKey) Key(ctx context.Context, _ *identity.Signer) (*keys.Key, error) {
	return k.Provider.Key(ctx)
}
