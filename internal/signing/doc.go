// Package signing holds the use case behind POST /sign-documents: sign a
// batch of PDF documents for one validated person and report, per document,
// a [Result] that either carries the signed file or says in one fixed
// sentence why that document could not be signed.
//
// # Batches
//
// [Service.Sign] checks the signer's identity once, obtains one signing key
// for the batch, signs the documents concurrently (bounded by the number of
// cores), records one [AuditEntry] per document in the [AuditLog] and only
// then returns. A document that cannot be signed gets [StatusFail] and an
// errorReason from the table in reason.go; its siblings go on. Errors that
// are not the document's fault (key store down, audit log down) are returned
// as errors, and the caller answers with a service fault.
//
// # Overload
//
// A Service bounds the signing work of all requests together. A batch that
// cannot start within [Options.QueueTimeout] fails with [ErrOverloaded], which
// the HTTP layer turns into 503 with Retry-After.
//
// # Dependencies
//
// The package declares the small interfaces it consumes: [IdentityChecker],
// [KeySource], [AuditLog] and [DocumentSigner]. It imports neither HTTP nor
// SQL.
package signing
