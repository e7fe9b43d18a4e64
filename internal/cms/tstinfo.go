package cms

import (
	"crypto"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDTSTInfo is id-ct-TSTInfo (RFC 3161 §2.4.2), the content type of a
// time-stamp token.
var OIDTSTInfo = oidTSTInfo

// TSTInfo is the content of a time-stamp token (RFC 3161 §2.4.2).
type TSTInfo struct {
	// Policy is the TSA policy under which the token was made.
	Policy asn1.ObjectIdentifier
	// HashAlgorithm and HashedMessage form the message imprint; the hash
	// is zero when not SHA-1 or SHA-2.
	HashAlgorithm crypto.Hash
	HashedMessage []byte
	// SerialNumber is unique per token of one TSA.
	SerialNumber *big.Int
	// GenTime is when the token was made.
	GenTime time.Time
	// Accuracy is the accuracy of GenTime; zero when absent.
	Accuracy time.Duration
	// Ordering says whether tokens of this TSA are ordered by GenTime.
	Ordering bool
	// Nonce echoes the request's nonce; nil when absent.
	Nonce *big.Int
}

// ParseTSTInfo reads a DER TSTInfo. Errors wrap ErrMalformed.
func ParseTSTInfo(der []byte) (*TSTInfo, error) {
	in := cryptobyte.String(der)
	var s, imprint, alg, hashed cryptobyte.String
	var version int64
	t := &TSTInfo{SerialNumber: new(big.Int)}
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("bad TSTInfo")
	}
	if !s.ReadASN1Integer(&version) || version != 1 {
		return nil, malformed("TSTInfo version is not 1")
	}
	if !s.ReadASN1ObjectIdentifier(&t.Policy) {
		return nil, malformed("bad TSTInfo policy")
	}
	if !s.ReadASN1(&imprint, cbasn1.SEQUENCE) || !imprint.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!imprint.ReadASN1(&hashed, cbasn1.OCTET_STRING) || !imprint.Empty() {
		return nil, malformed("bad TSTInfo messageImprint")
	}
	oid, _, err := readAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	t.HashAlgorithm = hashFromOID(oid)
	t.HashedMessage = append([]byte{}, hashed...)
	if !s.ReadASN1Integer(t.SerialNumber) {
		return nil, malformed("bad TSTInfo serialNumber")
	}
	var gt cryptobyte.String
	if !s.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, malformed("bad TSTInfo genTime")
	}
	if t.GenTime, err = parseGeneralizedTime(string(gt)); err != nil {
		return nil, err
	}
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		s.ReadASN1(&acc, cbasn1.SEQUENCE)
		if t.Accuracy, err = parseAccuracy(acc); err != nil {
			return nil, err
		}
	}
	if s.PeekASN1Tag(cbasn1.BOOLEAN) && !s.ReadASN1Boolean(&t.Ordering) {
		return nil, malformed("bad TSTInfo ordering")
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		t.Nonce = new(big.Int)
		if !s.ReadASN1Integer(t.Nonce) {
			return nil, malformed("bad TSTInfo nonce")
		}
	}
	// The tsa name [0] and extensions [1] are not needed; check their
	// framing only.
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(0).ContextSpecific().Constructed(), cbasn1.Tag(1).ContextSpecific().Constructed()} {
		if !s.SkipOptionalASN1(tag) {
			return nil, malformed("bad TSTInfo tail")
		}
	}
	if !s.Empty() {
		return nil, malformed("data after TSTInfo fields")
	}
	return t, nil
}

func parseAccuracy(s cryptobyte.String) (time.Duration, error) {
	var secs, millis, micros int64
	if s.PeekASN1Tag(cbasn1.INTEGER) && !s.ReadASN1Integer(&secs) {
		return 0, malformed("bad accuracy seconds")
	}
	// millis [0] and micros [1] are IMPLICIT INTEGERs.
	for i, out := range []*int64{&millis, &micros} {
		var v cryptobyte.String
		var present bool
		if !s.ReadOptionalASN1(&v, &present, cbasn1.Tag(i).ContextSpecific()) {
			return 0, malformed("bad accuracy")
		}
		if present {
			if len(v) == 0 || len(v) > 2 || v[0]&0x80 != 0 {
				return 0, malformed("bad accuracy")
			}
			for _, b := range v {
				*out = *out<<8 | int64(b)
			}
		}
	}
	if !s.Empty() {
		return 0, malformed("bad accuracy")
	}
	if secs < 0 || secs > 1<<31 || millis < 0 || millis > 999 || micros < 0 || micros > 999 {
		return 0, malformed("accuracy out of range")
	}
	return time.Duration(secs)*time.Second + time.Duration(millis)*time.Millisecond + time.Duration(micros)*time.Microsecond, nil
}

// parseGeneralizedTime reads a DER GeneralizedTime (X.690 §11.7): UTC,
// with optional fractional seconds without trailing zeros.
func parseGeneralizedTime(s string) (time.Time, error) {
	layout := "20060102150405Z"
	if len(s) > 15 && s[14] == '.' {
		layout = "20060102150405." + fracLayout(len(s)-16) + "Z"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, malformed("bad GeneralizedTime %q", s)
	}
	return t, nil
}

func fracLayout(n int) string {
	if n < 1 || n > 9 {
		return "9"
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = '9'
	}
	return string(b)
}

// Marshal returns the DER encoding of t, with ordering false and no TSA
// name or extensions.
func (t *TSTInfo) Marshal() ([]byte, error) {
	oid := hashOID(t.HashAlgorithm)
	if oid == nil {
		return nil, fmt.Errorf("%w: message imprint hash %v", ErrUnsupported, t.HashAlgorithm)
	}
	if t.SerialNumber == nil {
		return nil, fmt.Errorf("%w: TSTInfo without serial number", ErrInvalidOptions)
	}
	gt := t.GenTime.UTC()
	gts := gt.Format("20060102150405.999999999Z")
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(t.Policy)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addAlgorithm(b, oid, false)
			b.AddASN1OctetString(t.HashedMessage)
		})
		b.AddASN1BigInt(t.SerialNumber)
		b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(gts)) })
		if t.Accuracy > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				secs := int64(t.Accuracy / time.Second)
				ms := int64(t.Accuracy%time.Second) / int64(time.Millisecond)
				us := int64(t.Accuracy%time.Millisecond) / int64(time.Microsecond)
				if secs > 0 {
					b.AddASN1Int64(secs)
				}
				if ms > 0 {
					b.AddASN1Int64WithTag(ms, cbasn1.Tag(0).ContextSpecific())
				}
				if us > 0 {
					b.AddASN1Int64WithTag(us, cbasn1.Tag(1).ContextSpecific())
				}
			})
		}
		if t.Nonce != nil {
			b.AddASN1BigInt(t.Nonce)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode TSTInfo: %w", err)
	}
	return der, nil
}
