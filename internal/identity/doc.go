// Package identity decides who signs: it looks up the identity-validation
// transaction named by a request's clientInfo, applies the rules that make a
// transaction usable, and returns the [Signer] that the certificate and the
// appearance will name.
//
// # Providers
//
// A [Provider] finds a [Transaction] by number. The embedded provider is the
// service's own store (managed with `sello transactions`); an HTTP provider
// asks an external identity-validation service. Both implement [Provider];
// the store also implements [Consumer] and [Store].
//
// # Rules
//
// [Checker.Check] refuses a transaction that is unknown, rejected, pending,
// expired, revoked, issued for another account or, when single-use is
// configured, already consumed. Every refusal is a [*RuleError] whose
// [Rule] says which rule failed, and every refusal matches [ErrNotValidated]
// with errors.Is, so that each document of the request fails with the
// specification's "Identity validation error." A provider that cannot be
// reached is a refusal too ([RuleUnavailable]): the documents fail, the
// request does not hang, because the caller's context bounds the lookup.
//
// # Signer data given by the client
//
// When clientInfo is a JSON object, the client states the signer's data
// itself. [Checker.Check] accepts it only when
// [CheckerOptions.AllowClientData] is set, and marks the signer with
// [SourceClient] so the audit log records it as such.
package identity
