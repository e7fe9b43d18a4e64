package tsa

import (
	"crypto"
	_ "crypto/sha256" // for crypto.Hash.New
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrMalformed reports a time-stamp request or response that does not
// follow RFC 3161.
var ErrMalformed = errors.New("tsa: malformed RFC 3161 message")

// maxMessage caps the size of a response the client reads and of any
// message the parsers accept.
const maxMessage = 1 << 20

// Request is an RFC 3161 §2.4.1 TimeStampReq.
type Request struct {
	// Hash and Digest form the message imprint.
	Hash   crypto.Hash
	Digest []byte
	// Policy is the requested TSA policy, or nil.
	Policy asn1.ObjectIdentifier
	// Nonce is a random number the response must echo, or nil.
	Nonce *big.Int
	// CertReq asks the TSA to include its certificate in the token.
	CertReq bool
}

var hashOIDs = []struct {
	h   crypto.Hash
	oid asn1.ObjectIdentifier
}{
	{crypto.SHA256, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}},
	{crypto.SHA384, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}},
	{crypto.SHA512, asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}},
	{crypto.SHA1, asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}},
}

// Marshal returns the DER encoding of r. Errors come from an unsupported
// hash or a digest of the wrong length.
func (r *Request) Marshal() ([]byte, error) {
	var oid asn1.ObjectIdentifier
	for _, e := range hashOIDs {
		if e.h == r.Hash {
			oid = e.oid
		}
	}
	if oid == nil || r.Hash == crypto.SHA1 {
		return nil, fmt.Errorf("tsa: unsupported hash %v", r.Hash)
	}
	if len(r.Digest) != r.Hash.Size() {
		return nil, fmt.Errorf("tsa: digest is %d bytes, want %d", len(r.Digest), r.Hash.Size())
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oid)
			})
			b.AddASN1OctetString(r.Digest)
		})
		if r.Policy != nil {
			b.AddASN1ObjectIdentifier(r.Policy)
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("tsa: encode request: %w", err)
	}
	return der, nil
}

// ParseRequest reads a DER TimeStampReq. Extensions are skipped. Errors
// wrap ErrMalformed.
func ParseRequest(der []byte) (*Request, error) {
	if len(der) > maxMessage {
		return nil, fmt.Errorf("%w: request of %d bytes", ErrMalformed, len(der))
	}
	in := cryptobyte.String(der)
	var s, imprint, alg, digest cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() || !s.ReadASN1Integer(&version) || version != 1 ||
		!s.ReadASN1(&imprint, cbasn1.SEQUENCE) || !imprint.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) || !imprint.ReadASN1(&digest, cbasn1.OCTET_STRING) || !imprint.Empty() {
		return nil, fmt.Errorf("%w: bad TimeStampReq", ErrMalformed)
	}
	r := &Request{Digest: append([]byte{}, digest...)}
	for _, e := range hashOIDs {
		if e.oid.Equal(oid) {
			r.Hash = e.h
		}
	}
	if s.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) && !s.ReadASN1ObjectIdentifier(&r.Policy) {
		return nil, fmt.Errorf("%w: bad reqPolicy", ErrMalformed)
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		r.Nonce = new(big.Int)
		if !s.ReadASN1Integer(r.Nonce) {
			return nil, fmt.Errorf("%w: bad nonce", ErrMalformed)
		}
	}
	if s.PeekASN1Tag(cbasn1.BOOLEAN) && !s.ReadASN1Boolean(&r.CertReq) {
		return nil, fmt.Errorf("%w: bad certReq", ErrMalformed)
	}
	if !s.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) || !s.Empty() {
		return nil, fmt.Errorf("%w: data after TimeStampReq fields", ErrMalformed)
	}
	return r, nil
}

// PKIStatus values (RFC 3161 §2.4.2).
const (
	StatusGranted                = 0
	StatusGrantedWithMods        = 1
	StatusRejection              = 2
	StatusWaiting                = 3
	StatusRevocationWarning      = 4
	StatusRevocationNotification = 5
)

// Response is an RFC 3161 §2.4.2 TimeStampResp.
type Response struct {
	// Status is the PKIStatus.
	Status int
	// StatusString joins the PKIFreeText lines, if any.
	StatusString string
	// FailInfo holds the PKIFailureInfo bits as an integer (bit 0 is
	// badAlg), zero when absent.
	FailInfo int
	// Token is the DER ContentInfo of the time-stamp token, or nil.
	Token []byte
}

// ParseResponse reads a DER TimeStampResp. Errors wrap ErrMalformed.
func ParseResponse(der []byte) (*Response, error) {
	if len(der) > maxMessage {
		return nil, fmt.Errorf("%w: response of %d bytes", ErrMalformed, len(der))
	}
	in := cryptobyte.String(der)
	var s, info cryptobyte.String
	var status int64
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() || !s.ReadASN1(&info, cbasn1.SEQUENCE) ||
		!info.ReadASN1Integer(&status) || status < 0 || status > 5 {
		return nil, fmt.Errorf("%w: bad PKIStatusInfo", ErrMalformed)
	}
	r := &Response{Status: int(status)}
	if info.PeekASN1Tag(cbasn1.SEQUENCE) {
		var text cryptobyte.String
		info.ReadASN1(&text, cbasn1.SEQUENCE)
		for !text.Empty() {
			var line cryptobyte.String
			if !text.ReadASN1(&line, cbasn1.UTF8String) {
				return nil, fmt.Errorf("%w: bad statusString", ErrMalformed)
			}
			if r.StatusString != "" {
				r.StatusString += "; "
			}
			r.StatusString += string(line)
		}
	}
	if info.PeekASN1Tag(cbasn1.BIT_STRING) {
		var bits asn1.BitString
		if !info.ReadASN1BitString(&bits) {
			return nil, fmt.Errorf("%w: bad failInfo", ErrMalformed)
		}
		for i := 0; i < bits.BitLength && i < 31; i++ {
			if bits.At(i) == 1 {
				r.FailInfo |= 1 << i
			}
		}
	}
	if !info.Empty() {
		return nil, fmt.Errorf("%w: data after PKIStatusInfo fields", ErrMalformed)
	}
	if !s.Empty() {
		var tok cryptobyte.String
		if !s.ReadASN1Element(&tok, cbasn1.SEQUENCE) || !s.Empty() {
			return nil, fmt.Errorf("%w: bad timeStampToken", ErrMalformed)
		}
		r.Token = tok
	}
	return r, nil
}

// Marshal returns the DER encoding of r, with StatusString as one line.
func (r *Response) Marshal() ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(r.Status))
			if r.StatusString != "" {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(r.StatusString)) })
				})
			}
			if r.FailInfo != 0 {
				n := 0
				for i := 0; i < 31; i++ {
					if r.FailInfo&(1<<i) != 0 {
						n = i + 1
					}
				}
				bs := make([]byte, (n+7)/8)
				for i := 0; i < n; i++ {
					if r.FailInfo&(1<<i) != 0 {
						bs[i/8] |= 0x80 >> (i % 8)
					}
				}
				b.AddASN1BitString(bs) // unused bits are encoded as zero, valid BER
			}
		})
		if r.Token != nil {
			b.AddBytes(r.Token)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("tsa: encode response: %w", err)
	}
	return der, nil
}
