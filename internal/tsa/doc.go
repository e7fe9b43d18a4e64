// Package tsa is a client of RFC 3161 time-stamping authorities over HTTP
// (RFC 3161 §3.4).
//
// # Signature time-stamps
//
// A [Client] obtains the time-stamp tokens that make a PAdES signature B-T:
// the token's message imprint is the digest of the signature value (RFC 3161
// appendix A), and the token goes into the SignerInfo's unsigned attributes
// (cms.AddTimestamp takes [Client.Timestamp] as its stamp function). Every
// token is checked against its request before it is returned.
//
// # Errors
//
// Failures to obtain a token wrap [ErrUnavailable] (a refusal is a
// [*StatusError]); a token that does not answer the request wraps
// [ErrInvalidToken].
//
// # Messages
//
// [Request] and [Response] encode and parse the protocol's messages; package
// tsatest uses them to answer requests in tests.
package tsa
