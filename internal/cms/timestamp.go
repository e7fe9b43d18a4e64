package cms

import (
	"context"
	"crypto"
	"fmt"
)

// AddTimestamp makes der, a ContentInfo holding a SignedData, a PAdES B-T
// signature: it asks stamp for an RFC 3161 token over the digest, under
// hash (zero means SHA-256), of the signature value, and adds the token as
// the unsigned attribute id-aa-signatureTimeStampToken (RFC 3161 appendix
// A; ETSI EN 319 122-1 §5.3). A method value such as (*tsa.Client).Timestamp
// fits stamp. The result is checked with VerifyTimestamp before it is
// returned. Errors from stamp are returned wrapped; others wrap ErrMalformed
// or are *VerifyError.
func AddTimestamp(ctx context.Context, der []byte, hash crypto.Hash, stamp func(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)) ([]byte, error) {
	if hash == 0 {
		hash = crypto.SHA256
	}
	if !hash.Available() {
		return nil, fmt.Errorf("%w: hash %v", ErrUnsupported, hash)
	}
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	h := hash.New()
	h.Write(sd.signature)
	token, err := stamp(ctx, h.Sum(nil), hash)
	if err != nil {
		return nil, fmt.Errorf("cms: signature time-stamp: %w", err)
	}
	out, err := AddUnsignedAttribute(der, TimestampAttribute(token))
	if err != nil {
		return nil, err
	}
	check, err := Parse(out)
	if err != nil {
		return nil, err
	}
	if err := check.VerifyTimestamp(); err != nil {
		return nil, err
	}
	return out, nil
}
