// Package pades signs PDF documents with PAdES baseline signatures (ETSI EN
// 319 142-1) added by incremental update, and verifies the signatures a
// document holds.
package pades

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding"
	"io"
	"time"

	"sello/internal/appearance"
	"sello/internal/keys"
)

// Rect is a rectangle given as the page is shown to a reader: PDF points,
// origin at the lower-left corner of the visible area (CropBox, else
// MediaBox), after the page's /Rotate. Any two opposite corners may be given.
type Rect struct {
	X1, Y1, X2, Y2 float64
}

// Options says what to sign with and how the signature looks.
type Options struct {
	// Key signs; its chain is embedded in the CMS.
	Key *keys.Key
	// Hash is the digest algorithm; zero means SHA-256.
	Hash crypto.Hash
	// PSS selects RSASSA-PSS for RSA keys instead of PKCS#1 v1.5.
	PSS bool

	// Page is the zero-based page for the visible signature; negative
	// counts from the end (-1 is the last page).
	Page int
	// Rect places the visible signature; nil makes an invisible one.
	Rect *Rect

	// Name is the signer's name, shown in the appearance and in /Name.
	Name string
	// Identification is the signer's identification (for example "CC
	// 1020304050"), shown in the appearance.
	Identification string
	Reason         string
	Location       string

	// Time is the signing time written in /M and shown; zero means Now().
	Time time.Time
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of randomness for the signature; nil means
	// crypto/rand.
	Rand io.Reader

	// Timestamper, when set, makes the signature PAdES B-T: a time-stamp
	// token over the signature value is added to the CMS (ETSI EN 319
	// 142-1 §5.3). A *tsa.Client fits.
	Timestamper Timestamper
	// TimestampReserve is the room, in bytes, kept in /Contents for the
	// time-stamp token, which is only known after the document digest is
	// fixed; zero means DefaultTimestampReserve. A token that does not fit
	// fails the signature with ErrTimestampTooLarge.
	TimestampReserve int

	// Appearance builds visible appearances. Share one across calls: it
	// keeps its compressors. Nil makes a new one for each call.
	Appearance *appearance.Builder
}

// DefaultTimestampReserve is the room kept for a time-stamp token when
// Options.TimestampReserve is zero: tokens of public TSAs, with their
// certificate chain, take 3 to 8 KB.
const DefaultTimestampReserve = 16 << 10

// Timestamper obtains RFC 3161 time-stamp tokens over a digest. It must be
// safe for concurrent use.
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
}

// Signed is a signed document: the original bytes followed by Tail.
type Signed struct {
	src  io.ReaderAt
	size int64
	// Tail holds the bytes of the incremental update, signature included.
	Tail []byte
	// prefix is the SHA-256 state after the original bytes, kept when the
	// signature's digest was SHA-256, so the digests of the original and
	// of the signed file cost no second pass.
	prefix []byte
}

// Size returns the length of the signed document in bytes.
func (s *Signed) Size() int64 { return s.size + int64(len(s.Tail)) }

// Digests returns the SHA-256 digests of the original and of the signed
// document. When the signature itself used SHA-256 they come from the pass
// Sign already made; otherwise the original is read once more.
func (s *Signed) Digests() (original, signed []byte, err error) {
	h := sha256.New()
	if s.prefix != nil {
		err = h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s.prefix)
	} else {
		_, err = io.Copy(h, io.NewSectionReader(s.src, 0, s.size))
	}
	if err != nil {
		return nil, nil, err
	}
	original = h.Sum(nil)
	h.Write(s.Tail)
	return original, h.Sum(nil), nil
}

// WriteTo streams the signed document to w: the original bytes, read again
// from the source, then the tail.
func (s *Signed) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, io.NewSectionReader(s.src, 0, s.size))
	if err != nil {
		return n, err
	}
	m, err := w.Write(s.Tail)
	return n + int64(m), err
}
