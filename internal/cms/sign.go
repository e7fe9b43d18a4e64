package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // for crypto.Hash.New: SHA-1 only to verify old signatures
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrUnsupported reports signing options this package cannot honour: a hash
// other than SHA-256, SHA-384 or SHA-512, a key that is neither RSA nor ECDSA
// P-256/P-384/P-521, or PSS with a non-RSA key.
var ErrUnsupported = errors.New("cms: unsupported algorithm or key")

// ErrInvalidOptions reports signing options that are inconsistent: no
// signer, no certificate, a certificate that does not match the signer's
// public key, or a digest of the wrong length.
var ErrInvalidOptions = errors.New("cms: invalid signing options")

// SignOptions say what signs and how.
type SignOptions struct {
	// Signer makes the signature value.
	Signer crypto.Signer
	// Chain holds the certificates to embed, each once; Chain[0] is the
	// signer's.
	Chain []*x509.Certificate
	// Hash is the digest algorithm: crypto.SHA256 (the default when
	// zero), crypto.SHA384 or crypto.SHA512.
	Hash crypto.Hash
	// PSS selects RSASSA-PSS (RFC 8017 §8.1; salt length equal to the hash
	// length, MGF1 with the same hash) instead of PKCS#1 v1.5 for RSA keys.
	PSS bool
	// Rand is the randomness source for the signature; nil means
	// crypto/rand.Reader.
	Rand io.Reader
	// UnsignedAttrs are added to the SignerInfo's unsigned attributes.
	UnsignedAttrs []Attribute
}

// Attribute is a CMS attribute (RFC 5652 §5.3): a type and its values, each
// value a complete DER encoding.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
}

// TimestampAttribute returns the unsigned attribute
// id-aa-signatureTimeStampToken (RFC 3161 appendix A) holding token, a DER
// ContentInfo as a time-stamping authority returns it.
func TimestampAttribute(token []byte) Attribute {
	return Attribute{Type: OIDSignatureTimeStampToken, Values: [][]byte{token}}
}

// Sign returns a DER ContentInfo holding a detached SignedData (RFC 5652
// §5) over a document whose digest under opts.Hash is digest. The signed
// attributes are contentType, messageDigest and signingCertificateV2 (RFC
// 5035 §3); every certificate of opts.Chain is embedded. Errors wrap
// ErrInvalidOptions or ErrUnsupported, or come from the signer. Sign is safe
// for concurrent use when opts.Signer is.
func Sign(digest []byte, opts SignOptions) ([]byte, error) {
	p, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	return p.sign(digest)
}

// SignContent returns a DER ContentInfo holding a SignedData that
// encapsulates content of type contentType, as an RFC 3161 time-stamp token
// holds its TSTInfo (RFC 3161 §2.4.2). The signed attributes are those of
// Sign. Errors are those of Sign.
func SignContent(content []byte, contentType asn1.ObjectIdentifier, opts SignOptions) ([]byte, error) {
	p, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	if content == nil {
		content = []byte{}
	}
	p.contentType, p.content = contentType, content
	h := p.hash.New()
	h.Write(content)
	return p.sign(h.Sum(nil))
}

func (p *prepared) sign(digest []byte) ([]byte, error) {
	opts := p.opts
	if len(digest) != p.hash.Size() {
		return nil, fmt.Errorf("%w: digest is %d bytes, want %d for %v", ErrInvalidOptions, len(digest), p.hash.Size(), p.hash)
	}
	attrs, err := p.signedAttrs(digest)
	if err != nil {
		return nil, err
	}
	h := p.hash.New()
	h.Write(attrs)
	var so crypto.SignerOpts = p.hash
	if p.pss {
		so = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: p.hash}
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	sig, err := opts.Signer.Sign(r, h.Sum(nil), so)
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	if len(sig) > p.maxSig {
		return nil, fmt.Errorf("cms: signer returned %d bytes, more than the %d its key allows", len(sig), p.maxSig)
	}
	return p.encode(attrs, sig)
}

// MaxSize returns the largest length Sign can return for opts: the ECDSA
// signature value varies in length, so the bound is computed with a
// signature of the maximum DER length for the key. It does not call the
// signer.
func MaxSize(opts SignOptions) (int, error) {
	p, err := prepare(opts)
	if err != nil {
		return 0, err
	}
	attrs, err := p.signedAttrs(make([]byte, p.hash.Size()))
	if err != nil {
		return 0, err
	}
	der, err := p.encode(attrs, make([]byte, p.maxSig))
	if err != nil {
		return 0, err
	}
	return len(der), nil
}

// prepared holds what Sign and MaxSize share: validated options and the
// encodings that do not depend on the digest.
type prepared struct {
	opts   SignOptions
	hash   crypto.Hash
	pss    bool
	maxSig int
	sigAlg []byte // DER AlgorithmIdentifier for signatureAlgorithm

	contentType asn1.ObjectIdentifier
	content     []byte // encapsulated content, nil when detached
}

func prepare(opts SignOptions) (*prepared, error) {
	if opts.Signer == nil {
		return nil, fmt.Errorf("%w: no signer", ErrInvalidOptions)
	}
	if len(opts.Chain) == 0 || opts.Chain[0] == nil {
		return nil, fmt.Errorf("%w: no signer certificate", ErrInvalidOptions)
	}
	for i, c := range opts.Chain {
		if c == nil || len(c.Raw) == 0 {
			return nil, fmt.Errorf("%w: certificate %d is empty", ErrInvalidOptions, i)
		}
	}
	p := &prepared{opts: opts, hash: opts.Hash, pss: opts.PSS, contentType: oidData}
	if p.hash == 0 {
		p.hash = crypto.SHA256
	}
	switch p.hash {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("%w: hash %v", ErrUnsupported, p.hash)
	}
	pub := opts.Signer.Public()
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(opts.Chain[0].PublicKey) {
		return nil, fmt.Errorf("%w: certificate does not match the signer's public key", ErrInvalidOptions)
	}
	b := cryptobyte.NewBuilder(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		p.maxSig = k.Size()
		if p.pss {
			addPSSAlgorithm(b, p.hash)
		} else {
			addAlgorithm(b, oidRSAEncryption, true)
		}
	case *ecdsa.PublicKey:
		if p.pss {
			return nil, fmt.Errorf("%w: PSS needs an RSA key", ErrUnsupported)
		}
		if k.Curve == nil {
			return nil, fmt.Errorf("%w: ECDSA key without curve", ErrUnsupported)
		}
		switch k.Curve.Params().BitSize {
		case 256, 384, 521:
		default:
			return nil, fmt.Errorf("%w: curve %s", ErrUnsupported, k.Curve.Params().Name)
		}
		p.maxSig = maxECDSASigLen((k.Curve.Params().N.BitLen() + 7) / 8)
		oid := map[crypto.Hash]asn1.ObjectIdentifier{
			crypto.SHA256: oidECDSAWithSHA256,
			crypto.SHA384: oidECDSAWithSHA384,
			crypto.SHA512: oidECDSAWithSHA512,
		}[p.hash]
		addAlgorithm(b, oid, false)
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrUnsupported, pub)
	}
	alg, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode signature algorithm: %w", err)
	}
	p.sigAlg = alg
	return p, nil
}

// maxECDSASigLen returns the longest DER Ecdsa-Sig-Value (RFC 5480 §2.2.3)
// for a group order of n bytes: both integers full length with a leading
// zero byte.
func maxECDSASigLen(n int) int {
	intLen := 1 + derLenLen(n+1) + n + 1
	body := 2 * intLen
	return 1 + derLenLen(body) + body
}

func derLenLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	default:
		return 4
	}
}

// signedAttrs returns the DER SET OF signed attributes (tag SET, as it is
// hashed; RFC 5652 §5.4).
func (p *prepared) signedAttrs(digest []byte) ([]byte, error) {
	cert := p.opts.Chain[0]
	ch := p.hash.New()
	ch.Write(cert.Raw)
	certHash := ch.Sum(nil)

	var attrs [][]byte
	add := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		attrs = append(attrs, b.BytesOrPanic())
	}
	add(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(p.contentType) })
	add(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
	// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash,
	// issuerSerial }; DER omits a value equal to its DEFAULT.
	add(oidAttrSigningCertV2, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if p.hash != crypto.SHA256 {
						addAlgorithm(b, hashOID(p.hash), false)
					}
					b.AddASN1OctetString(certHash)
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
								b.AddBytes(cert.RawIssuer)
							})
						})
						b.AddASN1BigInt(cert.SerialNumber)
					})
				})
			})
		})
	})
	return encodeSet(cbasn1.SET, attrs)
}

// encode returns the ContentInfo for the given signed attributes (as a
// SET) and signature value.
func (p *prepared) encode(signedAttrs, sig []byte) ([]byte, error) {
	certs := make([][]byte, 0, len(p.opts.Chain))
	for _, c := range p.opts.Chain {
		// A certificate given twice is embedded once.
		if !slices.ContainsFunc(certs, func(b []byte) bool { return bytes.Equal(b, c.Raw) }) {
			certs = append(certs, c.Raw)
		}
	}
	certSet, err := encodeSet(cbasn1.Tag(0).ContextSpecific().Constructed(), certs)
	if err != nil {
		return nil, err
	}
	unsigned, err := encodeAttributes(p.opts.UnsignedAttrs)
	if err != nil {
		return nil, err
	}
	signer := p.opts.Chain[0]

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				// RFC 5652 §5.1: version 3 when the content is not id-data.
				if p.contentType.Equal(oidData) {
					b.AddASN1Int64(1)
				} else {
					b.AddASN1Int64(3)
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					addAlgorithm(b, hashOID(p.hash), false)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(p.contentType)
					if p.content != nil {
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(p.content)
						})
					}
				})
				b.AddBytes(certSet)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(signer.RawIssuer)
							b.AddASN1BigInt(signer.SerialNumber)
						})
						addAlgorithm(b, hashOID(p.hash), false)
						// signedAttrs [0] IMPLICIT: the SET tag is replaced.
						b.AddBytes(retag(signedAttrs, 0xa0))
						b.AddBytes(p.sigAlg)
						b.AddASN1OctetString(sig)
						if len(unsigned) > 0 {
							b.AddBytes(retag(unsigned, 0xa1))
						}
					})
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode SignedData: %w", err)
	}
	return der, nil
}

// encodeAttributes returns the DER SET OF attrs, or nil when attrs is
// empty.
func encodeAttributes(attrs []Attribute) ([]byte, error) {
	if len(attrs) == 0 {
		return nil, nil
	}
	enc := make([][]byte, 0, len(attrs))
	for _, a := range attrs {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("%w: attribute %v has no value", ErrInvalidOptions, a.Type)
		}
		vals, err := encodeSet(cbasn1.SET, a.Values)
		if err != nil {
			return nil, err
		}
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.Type)
			b.AddBytes(vals)
		})
		e, err := b.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: attribute %v: %v", ErrInvalidOptions, a.Type, err)
		}
		enc = append(enc, e)
	}
	return encodeSet(cbasn1.SET, enc)
}

// encodeSet returns a DER SET OF (X.690 §11.6: elements sorted as octet
// strings) under tag, each element already a complete encoding.
func encodeSet(tag cbasn1.Tag, elems [][]byte) ([]byte, error) {
	sorted := slices.Clone(elems)
	slices.SortFunc(sorted, bytes.Compare)
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode SET OF: %w", err)
	}
	return out, nil
}

// retag returns a copy of the DER element der with its (one-byte)
// identifier octet replaced.
func retag(der []byte, tag byte) []byte {
	out := slices.Clone(der)
	out[0] = tag
	return out
}

// addAlgorithm adds an AlgorithmIdentifier with absent parameters, or NULL
// parameters when null is set (RFC 4055 §5 for rsaEncryption).
func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, null bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if null {
			b.AddASN1NULL()
		}
	})
}

// addPSSAlgorithm adds id-RSASSA-PSS with explicit RSASSA-PSS-params (RFC
// 4055 §3.1): the hash, MGF1 with the same hash, and a salt as long as the
// hash; the trailer field keeps its default.
func addPSSAlgorithm(b *cryptobyte.Builder, h crypto.Hash) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidRSASSAPSS)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addAlgorithm(b, hashOID(h), false)
			})
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidMGF1)
					addAlgorithm(b, hashOID(h), false)
				})
			})
			b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(h.Size()))
			})
		})
	})
}
