// Package pkcs11 provides signing keys that live in a PKCS#11 token (an HSM,
// or SoftHSM2 in tests), through github.com/ThalesGroup/crypto11.
//
// # Configuration
//
// A [Store] is configured with an RFC 7512 URI ([ParseURI]), such as
//
//	pkcs11:token=sello;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
//
// or with the equivalent [Options] fields (module path, token label, key
// label or id, PIN from a file, an environment variable or the value). The
// certificate comes from the token (the object with the key's id or label)
// or from a PEM file.
//
// # Sessions
//
// crypto11 keeps a pool of sessions; [Options.MaxSessions] caps it. A
// PKCS#11 call cannot be cancelled, so [Store.Key] checks its context before
// touching the token. When a signature fails with an error that shows the
// token or its sessions are gone (device removed, session closed, not
// logged in), the store opens the token again and retries once.
//
// # Builds without cgo
//
// crypto11 needs cgo. Without it, [Open] returns [ErrNotSupported], and
// [ParseURI] still works.
package pkcs11
