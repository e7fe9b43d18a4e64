package pdf

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Placeholder is written as a hexadecimal string of Len zero bytes (2×Len
// hex digits between angle brackets). The writer records where it put it, so
// the caller can later overwrite the digits in place without moving any
// other byte; this is how a signature's /Contents is reserved before the
// digest is computed (ISO 32000-2 §12.8.1). A Placeholder is never
// encrypted.
type Placeholder struct {
	Len int
	// Offset is the absolute file offset of the opening '<', set by
	// Update.Bytes.
	Offset int64
}

// ByteRangePlaceholder is written as a fixed-width array that can be
// overwritten in place by PatchByteRange once the final offsets are known.
type ByteRangePlaceholder struct {
	// Offset is the absolute file offset of the opening '[', set by
	// Update.Bytes.
	Offset int64
}

// byteRangeWidth is the written width of a ByteRangePlaceholder: four
// numbers of up to 12 digits each, separated by spaces, in brackets.
const byteRangeWidth = 1 + 4*12 + 3 + 1

// FormatByteRange returns the fixed-width text that replaces a
// ByteRangePlaceholder: "[a b c d]" padded with spaces before the ']'.
// It returns false when a value does not fit.
func FormatByteRange(r [4]int64) ([]byte, bool) {
	b := make([]byte, 0, byteRangeWidth)
	b = append(b, '[')
	for i, v := range r {
		if v < 0 {
			return nil, false
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	if len(b)+1 > byteRangeWidth {
		return nil, false
	}
	for len(b) < byteRangeWidth-1 {
		b = append(b, ' ')
	}
	return append(b, ']'), true
}

// AppendObject appends the PDF syntax of o to dst (ISO 32000-2 §7.3).
// Dictionary keys are written in sorted order so output is reproducible.
// Streams are written with their /Length set from Raw; an indirect stream
// must be written through Update, not nested here.
func AppendObject(dst []byte, o Object) []byte {
	var w objectWriter
	w.buf = dst
	w.object(o)
	return w.buf
}

// objectWriter serialises objects and, for the incremental writer, notes
// where placeholders land and applies the document's string encryption.
type objectWriter struct {
	buf  []byte
	base int64 // file offset of buf[0]
	// crypt, when set, encrypts strings and streams of the object being
	// written.
	crypt func(b []byte, stream bool) ([]byte, error)
	err   error
}

func (w *objectWriter) object(o Object) {
	switch v := o.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case Bool:
		w.buf = strconv.AppendBool(w.buf, bool(v))
	case Integer:
		w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	case int:
		w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	case Real:
		w.buf = appendRealExact(w.buf, float64(v))
	case float64:
		w.buf = appendReal(w.buf, v)
	case Name:
		w.buf = appendName(w.buf, v)
	case String:
		w.buf = appendLiteralString(w.buf, w.encrypt(v, false))
	case HexString:
		w.buf = appendHexString(w.buf, w.encrypt(v, false))
	case Ref:
		w.buf = strconv.AppendUint(w.buf, uint64(v.Num), 10)
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendUint(w.buf, uint64(v.Gen), 10)
		w.buf = append(w.buf, " R"...)
	case Array:
		w.buf = append(w.buf, '[')
		for i, e := range v {
			if i > 0 {
				w.buf = append(w.buf, ' ')
			}
			w.object(e)
		}
		w.buf = append(w.buf, ']')
	case Dict:
		w.dict(v, nil)
	case *Stream:
		raw := w.encrypt(v.Raw, true)
		w.dict(v.Dict, map[Name]Object{"Length": Integer(len(raw))})
		w.buf = append(w.buf, "\nstream\n"...)
		w.buf = append(w.buf, raw...)
		w.buf = append(w.buf, "\nendstream"...)
	case *Placeholder:
		v.Offset = w.base + int64(len(w.buf))
		w.buf = append(w.buf, '<')
		for range 2 * v.Len {
			w.buf = append(w.buf, '0')
		}
		w.buf = append(w.buf, '>')
	case *ByteRangePlaceholder:
		v.Offset = w.base + int64(len(w.buf))
		b, _ := FormatByteRange([4]int64{})
		w.buf = append(w.buf, b...)
	default:
		// A programmer error: only the types above are PDF objects.
		panic(fmt.Sprintf("pdf: cannot write a %T as a PDF object", o))
	}
}

// dict writes d with keys sorted; override replaces or adds entries.
func (w *objectWriter) dict(d Dict, override map[Name]Object) {
	keys := make([]Name, 0, len(d)+len(override))
	for k, v := range d {
		if _, ok := override[k]; ok || v == nil {
			continue
		}
		keys = append(keys, k)
	}
	for k := range override {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	w.buf = append(w.buf, "<<"...)
	for _, k := range keys {
		v, ok := override[k]
		if !ok {
			v = d[k]
		}
		w.buf = appendName(w.buf, k)
		w.buf = append(w.buf, ' ')
		w.object(v)
	}
	w.buf = append(w.buf, ">>"...)
}

func (w *objectWriter) encrypt(b []byte, stream bool) []byte {
	if w.crypt == nil || w.err != nil {
		return b
	}
	out, err := w.crypt(b, stream)
	if err != nil {
		w.err = err
		return b
	}
	return out
}

// appendRealExact writes a Real so that it reads back as the same real:
// every digit it needs and always a decimal point. Objects copied from the
// original keep their meaning: a reader that wants an integer (/Rotate
// 90.0, say) treats a real differently from the integer 90, and rounding
// would move a number the document relies on.
func appendRealExact(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if bytes.IndexByte(dst[start:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}

// appendReal writes a computed number without exponent, as PDF requires (ISO 32000-2
// §7.3.3), with at most six decimals.
func appendReal(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	f = math.Round(f*1e6) / 1e6
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	b := strconv.AppendFloat(dst, f, 'f', 6, 64)
	// Trim trailing zeros after the decimal point.
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

// appendName writes /Name with #xx escapes for bytes outside the regular
// printable range, delimiters and '#' (ISO 32000-2 §7.3.5).
func appendName(dst []byte, n Name) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelimiterByte(c) {
			dst = append(dst, '#', hex[c>>4], hex[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func isDelimiterByte(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// appendLiteralString writes (…) escaping backslash, parentheses and line
// ends so that readers cannot normalise them (ISO 32000-2 §7.3.4.2).
func appendLiteralString(dst []byte, s []byte) []byte {
	dst = append(dst, '(')
	for _, c := range s {
		switch c {
		case '(', ')', '\\':
			dst = append(dst, '\\', c)
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, ')')
}

func appendHexString(dst []byte, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, '<')
	for _, c := range s {
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return append(dst, '>')
}
