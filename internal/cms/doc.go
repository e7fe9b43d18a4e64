// Package cms builds and parses the CMS SignedData structures (RFC 5652)
// that PAdES signatures carry in a PDF's /Contents string.
//
// # Signing
//
// [Sign] makes a detached SignedData over a document digest in the CAdES
// baseline form that ETSI EN 319 142-1 asks of PAdES: one SignerInfo
// identified by issuer and serial number, and the signed attributes
// contentType, messageDigest and signingCertificateV2 (RFC 5035), without
// signingTime, because PAdES keeps the time in the signature dictionary's
// /M. [MaxSize] gives the exact upper bound of the result, so a placeholder
// can be reserved before the digest is known.
//
// # Time-stamps
//
// [AddTimestamp] makes a signature B-T: it obtains an RFC 3161 token over
// the signature value and adds it as the unsigned attribute
// id-aa-signatureTimeStampToken (RFC 3161 appendix A);
// [AddUnsignedAttribute] adds any attribute. [SignContent] and [TSTInfo]
// build the tokens a time-stamping authority returns.
//
// # Parsing and verification
//
// [Parse] reads a SignedData, detached or with encapsulated content (as in
// an RFC 3161 time-stamp token), in DER or in the BER some signers write,
// never panicking and bounding the sizes it accepts. [SignedData.Verify]
// checks the message digest, the signing certificate reference and the
// signature value; [SignedData.VerifyTimestamp] checks a signature
// time-stamp. Failures are [*VerifyError] values with a [Reason].
// [ParseTSTInfo] reads the content of a time-stamp token.
//
// All encodings this package writes are DER (ITU-T X.690): SET OF values
// are sorted.
package cms
