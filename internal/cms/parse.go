package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits that keep parsing bounded.
const (
	// MaxInput is the largest encoding Parse accepts, in bytes.
	MaxInput = 4 << 20
	// maxCerts caps the certificates (and CRLs) read from a SignedData.
	maxCerts = 256
	// maxAttrs caps the attributes of each kind, and the values of each
	// attribute.
	maxAttrs = 64
)

// ErrMalformed reports an encoding that is not a SignedData this package
// can read: bad DER, a missing field, more than one SignerInfo, or a size
// over the limits.
var ErrMalformed = errors.New("cms: malformed SignedData")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// SignedData is a parsed CMS SignedData (RFC 5652 §5.1) with exactly one
// SignerInfo. Its fields are read-only views of the parsed encoding.
type SignedData struct {
	// ContentType is the encapsulated content type (id-data for PAdES,
	// id-ct-TSTInfo in a time-stamp token).
	ContentType asn1.ObjectIdentifier
	// Content is the encapsulated content, or nil when detached.
	Content []byte

	// Certificates are the embedded certificates that parse; RawCertificates
	// holds every embedded certificate encoding, parseable or not.
	Certificates    []*x509.Certificate
	RawCertificates [][]byte
	// RawCRLs holds the embedded CRL encodings (RFC 5652 §10.2.1).
	RawCRLs [][]byte

	// Signer is the certificate the SignerInfo names, or nil when none of
	// Certificates matches.
	Signer *x509.Certificate
	// DigestAlgorithm is the SignerInfo's digest algorithm: SHA-1,
	// SHA-256, SHA-384 or SHA-512.
	DigestAlgorithm crypto.Hash
	// SignatureAlgorithm is the signatureAlgorithm OID.
	SignatureAlgorithm asn1.ObjectIdentifier

	// SignedAttrs and UnsignedAttrs list the SignerInfo's attributes in
	// encoding order.
	SignedAttrs   []Attribute
	UnsignedAttrs []Attribute
	// MessageDigest is the messageDigest attribute's value, nil if absent.
	MessageDigest []byte
	// SigningTime is the signingTime attribute, zero if absent.
	SigningTime time.Time
	// Timestamp is the signature time-stamp token in the unsigned
	// attributes (RFC 3161 appendix A), or nil when there is none.
	Timestamp *Timestamp

	signature      []byte
	sigAlgParams   []byte // DER parameters of signatureAlgorithm, or nil
	signedAttrsDER []byte // with the [0] tag, as encoded
	sid            signerID
	raw            rawSignedData
}

// Timestamp is a time-stamp token held by a signature.
type Timestamp struct {
	// Raw is the token's DER ContentInfo.
	Raw []byte
	// Token is the token's SignedData.
	Token *SignedData
	// Info is the token's content.
	Info *TSTInfo
}

type signerID struct {
	issuer []byte // DER Name
	serial *big.Int
	skid   []byte
}

// rawSignedData keeps the encodings that AddUnsignedAttribute copies.
type rawSignedData struct {
	version, digestAlgs, encap, certs, crls []byte
	siPrefix                                []byte // SignerInfo fields up to and including signature
}

// SignatureValue returns the SignerInfo's signature value, the input of a
// signature time-stamp's message imprint (RFC 3161 appendix A).
func (sd *SignedData) SignatureValue() []byte { return bytes.Clone(sd.signature) }

// Parse reads a DER ContentInfo holding a SignedData. Zero bytes after the
// ContentInfo are ignored, as a PDF /Contents string is padded with them.
// Errors wrap ErrMalformed, or ErrUnsupported for a digest algorithm other
// than SHA-1, SHA-256, SHA-384 and SHA-512, so DigestAlgorithm of a parsed
// SignedData is always usable. Parse never panics and bounds the memory it
// uses by the input size.
func Parse(der []byte) (*SignedData, error) {
	return parse(der, true)
}

func parse(der []byte, withTimestamp bool) (*SignedData, error) {
	if len(der) > MaxInput {
		return nil, malformed("%d bytes, over the %d limit", len(der), MaxInput)
	}
	sd, err := parseDER(der, withTimestamp)
	if err == nil || !errors.Is(err, ErrMalformed) {
		return sd, err
	}
	// Some signers write BER (indefinite lengths, chunked strings,
	// long-form lengths); read it as its DER conversion.
	conv, cerr := normalizeBER(der)
	if cerr != nil || bytes.Equal(conv, der) {
		return nil, err
	}
	return parseDER(conv, withTimestamp)
}

func parseDER(der []byte, withTimestamp bool) (*SignedData, error) {
	in := cryptobyte.String(der)
	var ci cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) {
		return nil, malformed("no ContentInfo")
	}
	for _, b := range in {
		if b != 0 {
			return nil, malformed("data after the ContentInfo")
		}
	}
	var ct asn1.ObjectIdentifier
	var content, body cryptobyte.String
	if !ci.ReadASN1ObjectIdentifier(&ct) || !ct.Equal(oidSignedData) {
		return nil, malformed("content type is not signedData")
	}
	if !ci.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!content.ReadASN1(&body, cbasn1.SEQUENCE) || !content.Empty() || !ci.Empty() {
		return nil, malformed("bad ContentInfo content")
	}

	sd := &SignedData{}
	var version, digestAlgs, encap cryptobyte.String
	if !body.ReadASN1Element(&version, cbasn1.INTEGER) {
		return nil, malformed("bad version")
	}
	if !body.ReadASN1Element(&digestAlgs, cbasn1.SET) {
		return nil, malformed("bad digestAlgorithms")
	}
	if !body.ReadASN1Element(&encap, cbasn1.SEQUENCE) {
		return nil, malformed("bad encapContentInfo")
	}
	sd.raw.version, sd.raw.digestAlgs, sd.raw.encap = version, digestAlgs, encap
	if err := sd.parseEncap(encap); err != nil {
		return nil, err
	}

	var certs, crls cryptobyte.String
	var hasCerts, hasCRLs bool
	certsTag := cbasn1.Tag(0).ContextSpecific().Constructed()
	crlsTag := cbasn1.Tag(1).ContextSpecific().Constructed()
	if !body.ReadOptionalASN1(&certs, &hasCerts, certsTag) {
		return nil, malformed("bad certificates")
	}
	if hasCerts {
		sd.raw.certs = encodeTagged(certsTag, certs)
		if err := sd.parseCerts(certs); err != nil {
			return nil, err
		}
	}
	if !body.ReadOptionalASN1(&crls, &hasCRLs, crlsTag) {
		return nil, malformed("bad crls")
	}
	if hasCRLs {
		sd.raw.crls = encodeTagged(crlsTag, crls)
		for !crls.Empty() {
			var tag cbasn1.Tag
			var el cryptobyte.String
			if !crls.ReadAnyASN1Element(&el, &tag) {
				return nil, malformed("bad crl")
			}
			if tag == cbasn1.SEQUENCE {
				if len(sd.RawCRLs) == maxCerts {
					return nil, malformed("more than %d CRLs", maxCerts)
				}
				sd.RawCRLs = append(sd.RawCRLs, el)
			}
		}
	}

	var infos, si cryptobyte.String
	if !body.ReadASN1(&infos, cbasn1.SET) || !body.Empty() {
		return nil, malformed("bad signerInfos")
	}
	if !infos.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, malformed("no SignerInfo")
	}
	if !infos.Empty() {
		return nil, malformed("more than one SignerInfo")
	}
	if err := sd.parseSignerInfo(si, withTimestamp); err != nil {
		return nil, err
	}
	sd.Signer = sd.findSigner()
	return sd, nil
}

func (sd *SignedData) parseEncap(encap cryptobyte.String) error {
	var body cryptobyte.String
	if !encap.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&sd.ContentType) {
		return malformed("bad encapContentInfo")
	}
	var explicit cryptobyte.String
	var present bool
	if !body.ReadOptionalASN1(&explicit, &present, cbasn1.Tag(0).ContextSpecific().Constructed()) || !body.Empty() {
		return malformed("bad eContent")
	}
	if present {
		var oct cryptobyte.String
		if !explicit.ReadASN1(&oct, cbasn1.OCTET_STRING) || !explicit.Empty() {
			return malformed("eContent is not a primitive OCTET STRING")
		}
		sd.Content = []byte(oct)
		if sd.Content == nil {
			sd.Content = []byte{}
		}
	}
	return nil
}

func (sd *SignedData) parseCerts(certs cryptobyte.String) error {
	for !certs.Empty() {
		var tag cbasn1.Tag
		var el cryptobyte.String
		if !certs.ReadAnyASN1Element(&el, &tag) {
			return malformed("bad certificate")
		}
		if tag != cbasn1.SEQUENCE {
			continue // another CertificateChoices alternative
		}
		if len(sd.RawCertificates) == maxCerts {
			return malformed("more than %d certificates", maxCerts)
		}
		sd.RawCertificates = append(sd.RawCertificates, el)
		if c, err := x509.ParseCertificate(el); err == nil {
			sd.Certificates = append(sd.Certificates, c)
		}
	}
	return nil
}

func (sd *SignedData) parseSignerInfo(si cryptobyte.String, withTimestamp bool) error {
	start := si
	var version int64
	if !si.ReadASN1Integer(&version) {
		return malformed("bad SignerInfo version")
	}
	var tag cbasn1.Tag
	var sid cryptobyte.String
	if !si.ReadAnyASN1(&sid, &tag) {
		return malformed("bad SignerIdentifier")
	}
	switch tag {
	case cbasn1.SEQUENCE:
		var issuer cryptobyte.String
		sd.sid.serial = new(big.Int)
		if !sid.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !sid.ReadASN1Integer(sd.sid.serial) || !sid.Empty() {
			return malformed("bad issuerAndSerialNumber")
		}
		sd.sid.issuer = issuer
	case cbasn1.Tag(0).ContextSpecific():
		sd.sid.skid = sid
	default:
		return malformed("bad SignerIdentifier")
	}
	var alg cryptobyte.String
	if !si.ReadASN1(&alg, cbasn1.SEQUENCE) {
		return malformed("bad digestAlgorithm")
	}
	oid, _, err := readAlgorithm(alg)
	if err != nil {
		return err
	}
	if sd.DigestAlgorithm = hashFromOID(oid); sd.DigestAlgorithm == 0 {
		return fmt.Errorf("%w: digest algorithm %v", ErrUnsupported, oid)
	}

	var attrs cryptobyte.String
	var hasAttrs bool
	signedTag := cbasn1.Tag(0).ContextSpecific().Constructed()
	if si.PeekASN1Tag(signedTag) {
		if !si.ReadASN1Element(&attrs, signedTag) {
			return malformed("bad signedAttrs")
		}
		sd.signedAttrsDER = attrs
		hasAttrs = true
	}
	if hasAttrs {
		var inner cryptobyte.String
		attrs.ReadASN1(&inner, signedTag)
		if sd.SignedAttrs, err = parseAttributes(inner); err != nil {
			return fmt.Errorf("signedAttrs: %w", err)
		}
	}
	if !si.ReadASN1(&alg, cbasn1.SEQUENCE) {
		return malformed("bad signatureAlgorithm")
	}
	if sd.SignatureAlgorithm, sd.sigAlgParams, err = readAlgorithm(alg); err != nil {
		return err
	}
	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return malformed("bad signature")
	}
	sd.signature = sig
	sd.raw.siPrefix = start[:len(start)-len(si)]

	var unsigned cryptobyte.String
	var hasUnsigned bool
	if !si.ReadOptionalASN1(&unsigned, &hasUnsigned, cbasn1.Tag(1).ContextSpecific().Constructed()) || !si.Empty() {
		return malformed("bad unsignedAttrs")
	}
	if hasUnsigned {
		if sd.UnsignedAttrs, err = parseAttributes(unsigned); err != nil {
			return fmt.Errorf("unsignedAttrs: %w", err)
		}
	}
	return sd.readKnownAttributes(withTimestamp)
}

// readKnownAttributes fills the fields derived from attributes.
func (sd *SignedData) readKnownAttributes(withTimestamp bool) error {
	for _, a := range sd.SignedAttrs {
		switch {
		case a.Type.Equal(oidAttrMessageDigest):
			if sd.MessageDigest != nil || len(a.Values) != 1 {
				return malformed("messageDigest must have one value")
			}
			v := cryptobyte.String(a.Values[0])
			var d cryptobyte.String
			if !v.ReadASN1(&d, cbasn1.OCTET_STRING) || !v.Empty() {
				return malformed("bad messageDigest")
			}
			sd.MessageDigest = append([]byte{}, d...)
		case a.Type.Equal(oidAttrSigningTime):
			if len(a.Values) != 1 {
				return malformed("signingTime must have one value")
			}
			t, err := parseTime(a.Values[0])
			if err != nil {
				return err
			}
			sd.SigningTime = t
		}
	}
	if !withTimestamp {
		return nil
	}
	for _, a := range sd.UnsignedAttrs {
		if !a.Type.Equal(oidAttrTimestampToken) {
			continue
		}
		if sd.Timestamp != nil || len(a.Values) != 1 {
			return malformed("more than one signature time-stamp token")
		}
		tok, err := parse(a.Values[0], false)
		if err != nil {
			return fmt.Errorf("signature time-stamp token: %w", err)
		}
		if !tok.ContentType.Equal(oidTSTInfo) || tok.Content == nil {
			return malformed("signature time-stamp token does not hold a TSTInfo")
		}
		info, err := ParseTSTInfo(tok.Content)
		if err != nil {
			return fmt.Errorf("signature time-stamp token: %w", err)
		}
		sd.Timestamp = &Timestamp{Raw: a.Values[0], Token: tok, Info: info}
	}
	return nil
}

func parseTime(der []byte) (time.Time, error) {
	s := cryptobyte.String(der)
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, malformed("bad UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, malformed("bad GeneralizedTime")
		}
	default:
		return t, malformed("bad time")
	}
	if !s.Empty() {
		return t, malformed("data after time")
	}
	return t, nil
}

// parseAttributes reads the content of a SET OF Attribute.
func parseAttributes(s cryptobyte.String) ([]Attribute, error) {
	var out []Attribute
	for !s.Empty() {
		if len(out) == maxAttrs {
			return nil, malformed("more than %d attributes", maxAttrs)
		}
		var a, vals cryptobyte.String
		var attr Attribute
		if !s.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&attr.Type) ||
			!a.ReadASN1(&vals, cbasn1.SET) || !a.Empty() {
			return nil, malformed("bad attribute")
		}
		for !vals.Empty() {
			if len(attr.Values) == maxAttrs {
				return nil, malformed("more than %d attribute values", maxAttrs)
			}
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !vals.ReadAnyASN1Element(&v, &tag) {
				return nil, malformed("bad attribute value")
			}
			attr.Values = append(attr.Values, v)
		}
		if len(attr.Values) == 0 {
			return nil, malformed("attribute %v without values", attr.Type)
		}
		out = append(out, attr)
	}
	return out, nil
}

// readAlgorithm reads the content of an AlgorithmIdentifier; params is the
// DER of the parameters, nil when absent.
func readAlgorithm(s cryptobyte.String) (asn1.ObjectIdentifier, []byte, error) {
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, malformed("bad algorithm identifier")
	}
	if s.Empty() {
		return oid, nil, nil
	}
	var params cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&params, &tag) || !s.Empty() {
		return nil, nil, malformed("bad algorithm parameters")
	}
	return oid, params, nil
}

func encodeTagged(tag cbasn1.Tag, content []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(content) })
	out, _ := b.Bytes()
	return out
}

// findSigner returns the certificate the SignerIdentifier names. When
// several match (a CA that reused a serial number), the one the
// signingCertificate attribute references wins.
func (sd *SignedData) findSigner() *x509.Certificate {
	var found []*x509.Certificate
	for _, c := range sd.Certificates {
		if sd.sid.skid != nil {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sd.sid.skid) {
				found = append(found, c)
			}
			continue
		}
		if c.SerialNumber.Cmp(sd.sid.serial) != 0 {
			continue
		}
		if bytes.Equal(c.RawIssuer, sd.sid.issuer) || sameName(c.RawIssuer, sd.sid.issuer) {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		return nil
	}
	for _, c := range found[1:] {
		saved := sd.Signer
		sd.Signer = c
		ok := sd.checkSigningCertificate() == nil && sd.hasSigningCertificate()
		sd.Signer = saved
		if ok {
			return c
		}
	}
	return found[0]
}

// hasSigningCertificate reports whether a signingCertificate(V2) attribute
// is present.
func (sd *SignedData) hasSigningCertificate() bool {
	for _, a := range sd.SignedAttrs {
		if a.Type.Equal(oidAttrSigningCertV2) || a.Type.Equal(oidAttrSigningCert) {
			return true
		}
	}
	return false
}

// sameName compares two DER Names by value, for encoders that re-encode the
// issuer with other string types.
func sameName(a, b []byte) bool {
	var na, nb pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &na); err != nil || len(rest) > 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &nb); err != nil || len(rest) > 0 {
		return false
	}
	return na.String() == nb.String()
}
