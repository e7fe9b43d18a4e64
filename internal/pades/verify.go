package pades

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"

	"sello/internal/cms"
	"sello/internal/pdf"
)

// Reason says why a signature did not verify.
type Reason int

// The reasons a signature fails to verify.
const (
	ReasonNone           Reason = iota
	ReasonMalformed             // the signature dictionary or its CMS cannot be read
	ReasonBadByteRange          // the byte range does not cover the document around /Contents
	ReasonDigestMismatch        // the covered bytes changed after signing
	ReasonBadSignature          // the signature value does not verify with the signer's key
	ReasonUnsupported           // a signature format this package does not check
)

var reasonText = map[Reason]string{
	ReasonNone:           "valid",
	ReasonMalformed:      "malformed signature",
	ReasonBadByteRange:   "byte range does not cover the document",
	ReasonDigestMismatch: "document changed after signing",
	ReasonBadSignature:   "signature value does not verify",
	ReasonUnsupported:    "unsupported signature format",
}

func (r Reason) String() string { return reasonText[r] }

// VerifyError reports why a signature in a document did not verify.
type VerifyError struct {
	Field  string
	Reason Reason
	Err    error
}

func (e *VerifyError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("pades: signature %q: %s: %v", e.Field, e.Reason, e.Err)
	}
	return fmt.Sprintf("pades: signature %q: %s", e.Field, e.Reason)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// Signature describes one signature found in a document.
type Signature struct {
	Field     string
	SubFilter string
	// Signer is the signer's certificate, when the CMS could be read.
	Signer *x509.Certificate
	// Time is the signing time the signature dictionary claims (/M); for a
	// document time-stamp, the time-stamp's time.
	Time time.Time
	// Timestamped is the time of the signature time-stamp token (PAdES
	// B-T), zero when the signature has none. Its token is checked against
	// the signature value.
	Timestamped time.Time
	// Name, Reason and Location are the dictionary's text entries.
	Name, Reason, Location string
	// ByteRange is the signed byte range.
	ByteRange [4]int64
	// Covered is how many bytes from the start the signature covers; the
	// whole file when it equals the file's size.
	Covered   int64
	WholeFile bool
	// Revision is the 1-based revision whose end the signature covers, of
	// Revisions in the file.
	Revision, Revisions int
	// Err is nil when the signature is intact: the covered bytes hash to
	// the signed digest and the signature value verifies with the signer's
	// public key. Otherwise a *VerifyError.
	Err error
}

// Verify finds every signature field of the document held in src and checks
// each signature's integrity: byte range, digest and signature value. It does
// not decide whether the signer is trusted. The error is non-nil only when
// the document cannot be read; each signature's own failure is in its Err.
func Verify(src io.ReaderAt, size int64) ([]Signature, error) {
	r, err := pdf.Open(src, size, nil)
	if err != nil {
		return nil, err
	}
	cat, err := r.Catalog()
	if err != nil {
		return nil, err
	}
	acro, _, err := acroForm(r, cat)
	if err != nil {
		return nil, err
	}
	fields, err := fieldArray(r, acro)
	if err != nil {
		return nil, err
	}
	ends, err := revisionEnds(src, size)
	if err != nil {
		return nil, err
	}
	var sigs []Signature
	seen := make(map[pdf.Ref]bool)
	count := 0
	var walk func(arr pdf.Array, parent string, parentFT pdf.Name, depth int) error
	walk = func(arr pdf.Array, parent string, parentFT pdf.Name, depth int) error {
		if depth > 32 {
			return nil
		}
		for _, o := range arr {
			if count++; count > maxFields {
				return nil
			}
			if ref, ok := o.(pdf.Ref); ok {
				if seen[ref] {
					continue
				}
				seen[ref] = true
			}
			f, err := resolveDict(r, o)
			if err != nil {
				return err
			}
			if f == nil {
				continue
			}
			name := parent
			if t, ok := stringValue(r, f["T"]); ok {
				if name != "" {
					name += "."
				}
				name += DecodeTextString(t)
			}
			ft := parentFT
			if v, ok := nameValue(r, f["FT"]); ok {
				ft = v
			}
			if ft == "Sig" {
				v, err := resolveDict(r, f["V"])
				if err != nil {
					return err
				}
				if v != nil {
					sigs = append(sigs, checkSignature(r, src, size, name, v, ends))
				}
			}
			kids, err := resolveArray(r, f["Kids"])
			if err != nil {
				return err
			}
			if err := walk(kids, name, ft, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fields, "", "", 0); err != nil {
		return nil, err
	}
	return sigs, nil
}

func checkSignature(r *pdf.Reader, src io.ReaderAt, size int64, field string, v pdf.Dict, ends []int64) Signature {
	s := Signature{Field: field, Revisions: len(ends)}
	fail := func(reason Reason, err error) Signature {
		s.Err = &VerifyError{Field: field, Reason: reason, Err: err}
		return s
	}
	s.SubFilter = string(nameOf(v["SubFilter"]))
	if m, ok := stringValue(r, v["M"]); ok {
		s.Time = ParseDate(string(m))
	}
	for k, dst := range map[pdf.Name]*string{"Name": &s.Name, "Reason": &s.Reason, "Location": &s.Location} {
		if t, ok := stringValue(r, v[k]); ok {
			*dst = DecodeTextString(t)
		}
	}
	br, err := resolveArray(r, v["ByteRange"])
	if err != nil || len(br) != 4 {
		return fail(ReasonMalformed, errors.New("no /ByteRange of four numbers"))
	}
	for i, o := range br {
		n, ok := o.(pdf.Integer)
		if !ok || n < 0 {
			return fail(ReasonMalformed, errors.New("/ByteRange holds a value that is not a non-negative integer"))
		}
		s.ByteRange[i] = int64(n)
	}
	a, b, c, d := s.ByteRange[0], s.ByteRange[1], s.ByteRange[2], s.ByteRange[3]
	if a != 0 || b <= 0 || c <= b || c+d > size || d < 0 {
		return fail(ReasonBadByteRange, fmt.Errorf("byte range %v in a %d-byte file", s.ByteRange, size))
	}
	s.Covered = c + d
	s.WholeFile = s.Covered == size
	for i, e := range ends {
		if s.Covered <= e {
			s.Revision = i + 1
			break
		}
	}

	// The gap must be exactly the hex string /Contents: read it from the
	// file rather than trusting the parsed dictionary.
	gap := make([]byte, c-b)
	if _, err := src.ReadAt(gap, b); err != nil {
		return fail(ReasonBadByteRange, err)
	}
	if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
		return fail(ReasonBadByteRange, errors.New("the excluded bytes are not the /Contents hex string"))
	}
	der, err := decodeHex(gap[1 : len(gap)-1])
	if err != nil {
		return fail(ReasonMalformed, err)
	}
	der = trimDER(der)

	sd, err := cms.Parse(der)
	if err != nil {
		return fail(ReasonMalformed, err)
	}
	s.Signer = sd.Signer
	rangeDigest := func(h crypto.Hash) ([]byte, error) {
		if !h.Available() {
			return nil, fmt.Errorf("unsupported digest algorithm %v", h)
		}
		hh := h.New()
		if _, err := io.Copy(hh, io.NewSectionReader(src, a, b-a)); err != nil {
			return nil, err
		}
		if _, err := io.Copy(hh, io.NewSectionReader(src, c, d)); err != nil {
			return nil, err
		}
		return hh.Sum(nil), nil
	}
	if s.SubFilter == "ETSI.RFC3161" {
		// A document time-stamp (ISO 32000-2 §12.8.5): the token signs a
		// TSTInfo whose message imprint is the digest of the byte range.
		info, err := cms.ParseTSTInfo(sd.Content)
		if err != nil {
			return fail(ReasonMalformed, err)
		}
		s.Time = info.GenTime
		want, err := rangeDigest(info.HashAlgorithm)
		if err != nil {
			return fail(ReasonMalformed, err)
		}
		if !bytes.Equal(want, info.HashedMessage) {
			return fail(ReasonDigestMismatch, errors.New("the time-stamp's message imprint does not match the byte range"))
		}
		h := sd.DigestAlgorithm.New()
		h.Write(sd.Content)
		if err := sd.Verify(h.Sum(nil)); err != nil {
			return fail(ReasonBadSignature, err)
		}
		return s
	}
	digest, err := rangeDigest(sd.DigestAlgorithm)
	if err != nil {
		return fail(ReasonMalformed, err)
	}
	if sd.Timestamp != nil {
		if err := sd.VerifyTimestamp(); err != nil {
			return fail(ReasonBadSignature, err)
		}
		if sd.Timestamp.Info != nil {
			s.Timestamped = sd.Timestamp.Info.GenTime
		}
	}
	if err := sd.Verify(digest); err != nil {
		var ve *cms.VerifyError
		if errors.As(err, &ve) && ve.Reason == cms.ReasonDigestMismatch {
			return fail(ReasonDigestMismatch, err)
		}
		return fail(ReasonBadSignature, err)
	}
	return s
}

// stringValue returns the bytes of a string, literal or hexadecimal,
// through an indirect reference.
func stringValue(r *pdf.Reader, o pdf.Object) ([]byte, bool) {
	o, err := r.Resolve(o)
	if err != nil {
		return nil, false
	}
	switch s := o.(type) {
	case pdf.String:
		return s, true
	case pdf.HexString:
		return s, true
	}
	return nil, false
}

// nameValue returns a name, through an indirect reference.
func nameValue(r *pdf.Reader, o pdf.Object) (pdf.Name, bool) {
	o, err := r.Resolve(o)
	if err != nil {
		return "", false
	}
	n, ok := o.(pdf.Name)
	return n, ok
}

func nameOf(o pdf.Object) pdf.Name {
	n, _ := o.(pdf.Name)
	return n
}

// decodeHex decodes hex digits, ignoring white space, with an odd final
// digit taken as followed by 0 (ISO 32000-2 §7.3.4.3).
func decodeHex(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b)/2)
	var hi byte
	half := false
	for _, c := range b {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			continue
		default:
			return nil, fmt.Errorf("invalid hex digit %q in /Contents", c)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return out, nil
}

// trimDER drops the zero padding after the DER value that fills the
// reserved /Contents.
func trimDER(b []byte) []byte {
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &raw); err == nil && len(bytes.Trim(rest, "\x00")) == 0 {
		return b[:len(b)-len(rest)]
	}
	return b
}

// revisionEnds returns the offsets just past each "%%EOF" marker (and its
// line end) in the file: the ends of its revisions.
func revisionEnds(src io.ReaderAt, size int64) ([]int64, error) {
	const chunk = 1 << 20
	marker := []byte("%%EOF")
	var ends []int64
	buf := make([]byte, chunk+len(marker))
	for off := int64(0); off < size; off += chunk {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		data := buf[:n]
		for i := 0; ; {
			j := bytes.Index(data[i:], marker)
			if j < 0 || i+j >= chunk {
				break
			}
			end := off + int64(i+j+len(marker))
			// Include the line end that follows.
			for k := 0; k < 2 && end < size; k++ {
				var c [1]byte
				if _, err := src.ReadAt(c[:], end); err != nil || (c[0] != '\r' && c[0] != '\n') {
					break
				}
				end++
			}
			ends = append(ends, end)
			i += j + len(marker)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] < size {
		ends = append(ends, size)
	}
	return ends, nil
}
