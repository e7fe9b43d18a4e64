// Package auth holds Sello's API clients and the OAuth 2.0 token service in
// front of the signing API: client_credentials grants (RFC 6749 §4.4) answered
// with JWT access tokens (RFC 7519, RFC 9068 claims), and the check of those
// tokens on every protected request.
//
// # Clients
//
// A [Client] belongs to one account and may act for a set of projects. Its
// secret is shown once, at creation or rotation, and kept only as an argon2id
// hash (RFC 9106) in a [ClientStore]. [Admin] creates, lists, disables,
// enables and re-keys clients.
//
// # Tokens
//
// [Service.Issue] checks a client's credentials and returns a JWT signed with
// ES256 (RFC 7518 §3.4) under the newest token-signing key; the header names
// the key by its RFC 7638 thumbprint (kid). Token-signing keys live in a
// [KeyStore], their private halves sealed with AES-256-GCM under a master key
// that never enters the store. [Service.Verify] accepts tokens signed by any
// key that may still have live tokens, so rotating the key ([Admin.RotateKey])
// does not cut off tokens already issued. [Service.JWKS] publishes the public
// keys (RFC 7517).
//
// # Failures
//
// Errors are sentinels the HTTP layer maps to statuses: [ErrInvalidCredentials],
// [ErrInvalidToken], [ErrTokenExpired], [ErrAccountMissing] and friends, and
// [*RateLimitError] when too many attempts failed. A disabled client's tokens
// stop working within [Options.StatusCacheTTL] (30 s by default).
package auth
