// Package ca is the service's certificate authority: it issues short-lived
// certificates for validated persons over fresh keys that live only in
// memory (DESIGN.md §3).
//
// # Keys
//
// [LoadOrCreate] keeps a root key and certificate in the data directory,
// created on first use; [New] wraps an external CA key (a file or a PKCS#11
// token). `sello sign` with no key of its own gets a certificate for the
// signer from [CA.Issue], as the service does.
//
// # Certificates
//
// [CA.Issue] follows ETSI EN 319 412-2 for natural persons: the subject
// holds the person's name (CN) and an ETSI semantic identifier in
// serialNumber (EN 319 412-1 §5.1.3, see [Person.SerialNumber]), key usage
// is digitalSignature and contentCommitment, and the extended key usage is
// document signing (RFC 9336). They are never revoked; [CA.CRL] says so in
// a signed, empty CRL that B-LT signatures can embed.
package ca
