package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Reason says why a signature did not verify.
type Reason int

// The reasons a SignedData fails verification.
const (
	// ReasonSignerNotFound: no embedded certificate matches the
	// SignerInfo's signer identifier.
	ReasonSignerNotFound Reason = iota + 1
	// ReasonMissingAttribute: signed attributes, contentType or
	// messageDigest are absent.
	ReasonMissingAttribute
	// ReasonContentTypeMismatch: the contentType attribute differs from
	// the encapsulated content type.
	ReasonContentTypeMismatch
	// ReasonDigestMismatch: messageDigest differs from the digest of the
	// signed data.
	ReasonDigestMismatch
	// ReasonSigningCertMismatch: the signingCertificate(V2) attribute does
	// not reference the signer certificate.
	ReasonSigningCertMismatch
	// ReasonUnsupportedAlgorithm: a digest or signature algorithm this
	// package does not verify.
	ReasonUnsupportedAlgorithm
	// ReasonBadSignature: the signature value does not verify with the
	// signer certificate's public key.
	ReasonBadSignature
	// ReasonTimestampMismatch: a signature time-stamp token does not cover
	// the signature value, or its own signature does not verify.
	ReasonTimestampMismatch
)

var reasonNames = map[Reason]string{
	ReasonSignerNotFound:       "signer certificate not found",
	ReasonMissingAttribute:     "required signed attribute missing",
	ReasonContentTypeMismatch:  "contentType attribute mismatch",
	ReasonDigestMismatch:       "message digest mismatch",
	ReasonSigningCertMismatch:  "signing certificate reference mismatch",
	ReasonUnsupportedAlgorithm: "unsupported algorithm",
	ReasonBadSignature:         "signature value does not verify",
	ReasonTimestampMismatch:    "signature time-stamp does not verify",
}

// String returns a short description of the reason.
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// VerifyError reports why a SignedData did not verify.
type VerifyError struct {
	Reason Reason
	Err    error // underlying cause, if any
}

func (e *VerifyError) Error() string {
	if e.Err != nil {
		return "cms: " + e.Reason.String() + ": " + e.Err.Error()
	}
	return "cms: " + e.Reason.String()
}

// Unwrap returns the underlying cause.
func (e *VerifyError) Unwrap() error { return e.Err }

func verr(r Reason, format string, args ...any) error {
	if format == "" {
		return &VerifyError{Reason: r}
	}
	return &VerifyError{Reason: r, Err: fmt.Errorf(format, args...)}
}

// Verify checks the signature against digest, the digest of the signed
// content under sd.DigestAlgorithm: the messageDigest attribute equals
// digest, the contentType attribute matches, a signingCertificate or
// signingCertificateV2 attribute (when present) references the signer
// certificate, and the signature over the DER signed attributes verifies
// with the signer certificate's key (RFC 5652 §5.4, §5.6). It does not
// validate the certificate chain or the time-stamp token (see
// VerifyTimestamp). Failures are *VerifyError. Safe for concurrent use.
func (sd *SignedData) Verify(digest []byte) error {
	if sd.Signer == nil {
		return verr(ReasonSignerNotFound, "")
	}
	if sd.signedAttrsDER == nil {
		return verr(ReasonMissingAttribute, "no signed attributes")
	}
	if sd.DigestAlgorithm == 0 {
		return verr(ReasonUnsupportedAlgorithm, "digest algorithm")
	}
	var contentType asn1.ObjectIdentifier
	for _, a := range sd.SignedAttrs {
		if a.Type.Equal(oidAttrContentType) {
			s := cryptobyte.String(a.Values[0])
			if len(a.Values) != 1 || !s.ReadASN1ObjectIdentifier(&contentType) || !s.Empty() {
				return verr(ReasonContentTypeMismatch, "bad contentType value")
			}
		}
	}
	if contentType == nil {
		return verr(ReasonMissingAttribute, "no contentType")
	}
	if !contentType.Equal(sd.ContentType) {
		return verr(ReasonContentTypeMismatch, "attribute %v, content %v", contentType, sd.ContentType)
	}
	if sd.MessageDigest == nil {
		return verr(ReasonMissingAttribute, "no messageDigest")
	}
	if subtle.ConstantTimeCompare(sd.MessageDigest, digest) != 1 {
		return verr(ReasonDigestMismatch, "")
	}
	if err := sd.checkSigningCertificate(); err != nil {
		return err
	}
	// The signature covers the DER SET OF attributes, with the SET tag in
	// place of the [0] IMPLICIT tag (RFC 5652 §5.4).
	return verifySignature(sd.Signer, sd.SignatureAlgorithm, sd.sigAlgParams, sd.DigestAlgorithm,
		retag(sd.signedAttrsDER, 0x31), sd.signature)
}

// VerifyContent verifies a SignedData with encapsulated content, such as a
// time-stamp token, as Verify does with the digest of sd.Content.
func (sd *SignedData) VerifyContent() error {
	if sd.Content == nil {
		return verr(ReasonMissingAttribute, "no encapsulated content")
	}
	if sd.DigestAlgorithm == 0 {
		return verr(ReasonUnsupportedAlgorithm, "digest algorithm")
	}
	h := sd.DigestAlgorithm.New()
	h.Write(sd.Content)
	return sd.Verify(h.Sum(nil))
}

// VerifyTimestamp checks the signature time-stamp token: its message
// imprint is the digest of the signature value, its own signature verifies
// with the TSA certificate it embeds, and that certificate has the
// time-stamping extended key usage. It does not validate the TSA
// certificate chain. It returns a *VerifyError with ReasonTimestampMismatch,
// or ReasonMissingAttribute when there is no token.
func (sd *SignedData) VerifyTimestamp() error {
	ts := sd.Timestamp
	if ts == nil {
		return verr(ReasonMissingAttribute, "no signature time-stamp token")
	}
	if ts.Info.HashAlgorithm == 0 {
		return verr(ReasonUnsupportedAlgorithm, "time-stamp imprint hash")
	}
	h := ts.Info.HashAlgorithm.New()
	h.Write(sd.signature)
	if !bytes.Equal(h.Sum(nil), ts.Info.HashedMessage) {
		return verr(ReasonTimestampMismatch, "message imprint is not over the signature value")
	}
	if err := ts.Token.VerifyContent(); err != nil {
		return &VerifyError{Reason: ReasonTimestampMismatch, Err: err}
	}
	if !slices.Contains(ts.Token.Signer.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
		return verr(ReasonTimestampMismatch, "certificate %q is not for time-stamping (RFC 3161 §2.3)", ts.Token.Signer.Subject)
	}
	return nil
}

// checkSigningCertificate compares the first ESSCertID(v2) of a
// signingCertificate(V2) attribute with the signer certificate (RFC 5035
// §4).
func (sd *SignedData) checkSigningCertificate() error {
	for _, a := range sd.SignedAttrs {
		v2 := a.Type.Equal(oidAttrSigningCertV2)
		if !v2 && !a.Type.Equal(oidAttrSigningCert) {
			continue
		}
		s := cryptobyte.String(a.Values[0])
		var sc, ids, id, certHash cryptobyte.String
		if !s.ReadASN1(&sc, cbasn1.SEQUENCE) || !sc.ReadASN1(&ids, cbasn1.SEQUENCE) || !ids.ReadASN1(&id, cbasn1.SEQUENCE) {
			return verr(ReasonSigningCertMismatch, "bad signing certificate attribute")
		}
		h := crypto.SHA1
		if v2 {
			h = crypto.SHA256
			if id.PeekASN1Tag(cbasn1.SEQUENCE) {
				var alg cryptobyte.String
				id.ReadASN1(&alg, cbasn1.SEQUENCE)
				oid, _, err := readAlgorithm(alg)
				if err != nil {
					return verr(ReasonSigningCertMismatch, "bad ESSCertIDv2 hash algorithm")
				}
				if h = hashFromOID(oid); h == 0 {
					return verr(ReasonUnsupportedAlgorithm, "ESSCertIDv2 hash %v", oid)
				}
			}
		}
		if !id.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
			return verr(ReasonSigningCertMismatch, "bad certHash")
		}
		d := h.New()
		d.Write(sd.Signer.Raw)
		if !bytes.Equal(d.Sum(nil), certHash) {
			return verr(ReasonSigningCertMismatch, "certHash is not the signer certificate's")
		}
	}
	return nil
}

// verifySignature checks sig over data with cert's key.
func verifySignature(cert *x509.Certificate, alg asn1.ObjectIdentifier, params []byte, digestAlg crypto.Hash, data, sig []byte) error {
	h := digestAlg
	pss := false
	pssSalt := 0
	switch {
	case alg.Equal(oidRSAEncryption):
	case alg.Equal(oidSHA1WithRSA), alg.Equal(oidECDSAWithSHA1):
		h = crypto.SHA1
	case alg.Equal(oidSHA256WithRSA), alg.Equal(oidECDSAWithSHA256):
		h = crypto.SHA256
	case alg.Equal(oidSHA384WithRSA), alg.Equal(oidECDSAWithSHA384):
		h = crypto.SHA384
	case alg.Equal(oidSHA512WithRSA), alg.Equal(oidECDSAWithSHA512):
		h = crypto.SHA512
	case alg.Equal(oidRSASSAPSS):
		var err error
		if h, pssSalt, err = parsePSSParams(params); err != nil {
			return err
		}
		pss = true
	case alg.Equal(oidECPublicKey):
		// Some encoders name the key type rather than the signature
		// algorithm; the digest algorithm then gives the hash.
	default:
		return verr(ReasonUnsupportedAlgorithm, "signature algorithm %v", alg)
	}
	if h == 0 || !h.Available() {
		return verr(ReasonUnsupportedAlgorithm, "hash")
	}
	d := h.New()
	d.Write(data)
	sum := d.Sum(nil)
	isECDSA := alg.Equal(oidECPublicKey) || alg.Equal(oidECDSAWithSHA1) || alg.Equal(oidECDSAWithSHA256) ||
		alg.Equal(oidECDSAWithSHA384) || alg.Equal(oidECDSAWithSHA512)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if isECDSA {
			return verr(ReasonBadSignature, "ECDSA algorithm with an RSA key")
		}
		var err error
		if pss {
			err = rsa.VerifyPSS(pub, h, sum, sig, &rsa.PSSOptions{SaltLength: pssSalt, Hash: h})
		} else {
			err = rsa.VerifyPKCS1v15(pub, h, sum, sig)
		}
		if err != nil {
			return &VerifyError{Reason: ReasonBadSignature, Err: err}
		}
	case *ecdsa.PublicKey:
		if !isECDSA {
			return verr(ReasonBadSignature, "RSA algorithm with an ECDSA key")
		}
		if !ecdsa.VerifyASN1(pub, sum, sig) {
			return verr(ReasonBadSignature, "")
		}
	default:
		return verr(ReasonUnsupportedAlgorithm, "public key %T", pub)
	}
	return nil
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055 §3.1). Only MGF1 with
// the message hash and the default trailer are accepted.
func parsePSSParams(params []byte) (crypto.Hash, int, error) {
	bad := func(what string) (crypto.Hash, int, error) {
		return 0, 0, verr(ReasonUnsupportedAlgorithm, "RSASSA-PSS parameters: %s", what)
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return bad("not a SEQUENCE")
	}
	h, salt := crypto.SHA1, 20
	var hashEl, mgfEl cryptobyte.String
	var ok bool
	if !seq.ReadOptionalASN1(&hashEl, &ok, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return bad("hashAlgorithm")
	}
	if ok {
		var alg cryptobyte.String
		if !hashEl.ReadASN1(&alg, cbasn1.SEQUENCE) {
			return bad("hashAlgorithm")
		}
		oid, _, err := readAlgorithm(alg)
		if err != nil {
			return bad("hashAlgorithm")
		}
		if h = hashFromOID(oid); h == 0 {
			return bad("hash")
		}
	}
	mgfHash := crypto.SHA1
	if !seq.ReadOptionalASN1(&mgfEl, &ok, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return bad("maskGenAlgorithm")
	}
	if ok {
		var alg, inner cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !mgfEl.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidMGF1) ||
			!alg.ReadASN1(&inner, cbasn1.SEQUENCE) {
			return bad("maskGenAlgorithm")
		}
		ho, _, err := readAlgorithm(inner)
		if err != nil {
			return bad("MGF1 hash")
		}
		mgfHash = hashFromOID(ho)
	}
	if mgfHash != h {
		return bad("MGF1 hash differs from the message hash")
	}
	var saltEl cryptobyte.String
	if !seq.ReadOptionalASN1(&saltEl, &ok, cbasn1.Tag(2).ContextSpecific().Constructed()) {
		return bad("saltLength")
	}
	if ok {
		var n int64
		if !saltEl.ReadASN1Integer(&n) || n < 0 || n > 1024 {
			return bad("saltLength")
		}
		salt = int(n)
	}
	var trailer cryptobyte.String
	if !seq.ReadOptionalASN1(&trailer, &ok, cbasn1.Tag(3).ContextSpecific().Constructed()) || !seq.Empty() {
		return bad("trailerField")
	}
	if ok {
		var n int64
		if !trailer.ReadASN1Integer(&n) || n != 1 {
			return bad("trailerField")
		}
	}
	return h, salt, nil
}
