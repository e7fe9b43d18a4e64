// Package pkitest builds throwaway public-key infrastructures for tests, the
// way net/http/httptest builds throwaway servers: root and intermediate CAs,
// leaf certificates for RSA and ECDSA keys, the files (PEM, PKCS#12) that
// key loaders read, and revocation: CRLs and an OCSP responder
// ([CA.StartRevocation]).
//
// # Determinism
//
// Keys are derived from the certificate's common name: ECDSA keys from a hash
// of it, RSA keys from a small fixed set embedded in the package (RSA key
// generation is slow). Serial numbers count up from 1 within a CA, and with a
// fixed NotBefore the certificates are byte-for-byte reproducible (ECDSA
// certificate signatures use RFC 6979). The keys are public test fixtures:
// never trust them outside tests.
package pkitest
