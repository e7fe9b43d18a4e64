package pades

import (
	"fmt"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"sello/internal/pdf"
)

// Date formats t as a PDF date string "D:YYYYMMDDHHmmSS+HH'mm'" (ISO 32000-2
// §7.9.4), keeping t's own zone offset.
func Date(t time.Time) string {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", t.Format("20060102150405"), sign, off/3600, off%3600/60)
}

// ParseDate parses a PDF date string, accepting the optional parts ISO
// 32000-2 §7.9.4 allows. It returns the zero time when s is not a date.
func ParseDate(s string) time.Time {
	if len(s) >= 2 && s[:2] == "D:" {
		s = s[2:]
	}
	digits := 0
	for digits < len(s) && digits < 14 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits < 4 || digits%2 != 0 {
		return time.Time{}
	}
	full := s[:digits] + "0101000000"[digits-4:]
	rest := s[digits:]
	loc := time.UTC
	if len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-') {
		var hh, mm int
		fmt.Sscanf(rest[1:3], "%d", &hh)
		if len(rest) >= 6 && rest[3] == '\'' {
			fmt.Sscanf(rest[4:6], "%d", &mm)
		}
		off := hh*3600 + mm*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t, err := time.ParseInLocation("20060102150405", full, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// TextString encodes s as a PDF text string (ISO 32000-2 §7.9.2.2): plain
// bytes when s is printable ASCII, else UTF-16BE with a byte order mark.
func TextString(s string) pdf.String {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return pdf.String(s)
	}
	b := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return pdf.String(b)
}

// DecodeTextString decodes a PDF text string: UTF-16BE or UTF-8 with their
// byte order marks, else PDFDocEncoding, read here as Latin-1 for the
// characters signature fields use.
func DecodeTextString(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf && utf8.Valid(b[3:]) {
		return string(b[3:])
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
