package cms

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AddUnsignedAttribute returns der, a ContentInfo holding a SignedData, with
// attr added to the SignerInfo's unsigned attributes, for example a
// signature time-stamp token made after signing (TimestampAttribute). The
// signature stays valid: unsigned attributes are not signed. Errors wrap
// ErrMalformed or ErrInvalidOptions.
func AddUnsignedAttribute(der []byte, attr Attribute) ([]byte, error) {
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	attrs := append(append([]Attribute(nil), sd.UnsignedAttrs...), attr)
	unsigned, err := encodeAttributes(attrs)
	if err != nil {
		return nil, err
	}
	r := sd.raw
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(r.version)
				b.AddBytes(r.digestAlgs)
				b.AddBytes(r.encap)
				b.AddBytes(r.certs)
				b.AddBytes(r.crls)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddBytes(r.siPrefix)
						b.AddBytes(retag(unsigned, 0xa1))
					})
				})
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: encode SignedData: %w", err)
	}
	return out, nil
}
