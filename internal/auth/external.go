package auth

import "context"

// ExternalIssuer verifies the access tokens of another authorization
// server, such as an OpenID Connect provider, so that its clients can call
// the API as well as (or instead of) ours. Implementations must be safe for
// concurrent use.
type ExternalIssuer interface {
	// Issuer returns the iss value of the tokens it verifies.
	Issuer() string
	// Verify checks the token and maps its claims onto Claims: sub, jti,
	// times, and the account and projects from the issuer's own claim
	// names. It returns ErrTokenExpired or ErrInvalidToken (wrapped) as
	// Service.Verify does, and other errors for faults (issuer down).
	Verify(ctx context.Context, raw string) (*Claims, error)
}
