package cms

// maxBERDepth caps the nesting that the BER conversion follows; a
// SignedData with a time-stamp token nests about twenty deep.
const maxBERDepth = 40

// normalizeBER re-encodes a BER element the way some signers write
// SignedData (X.690 §8) as DER lengths: indefinite lengths become definite,
// long-form lengths minimal, and constructed strings (an OCTET STRING in
// chunks) primitive. Everything else is copied as it is; SET OF order is
// kept. Bytes after the element are appended unchanged. The output is
// built in one buffer no larger than the input plus a few bytes per
// element, so memory stays proportional to the input.
func normalizeBER(in []byte) ([]byte, error) {
	out, rest, err := appendBER(make([]byte, 0, len(in)+len(in)/2), in, 0)
	if err != nil {
		return nil, err
	}
	return append(out, rest...), nil
}

// appendBER appends the conversion of the element at the start of in to
// dst and returns the bytes after the element.
func appendBER(dst, in []byte, depth int) (out, rest []byte, err error) {
	if depth > maxBERDepth {
		return nil, nil, malformed("BER nested deeper than %d", maxBERDepth)
	}
	tag, content, rest, indefinite, err := readBERHeader(in)
	if err != nil {
		return nil, nil, err
	}
	if tag[0]&0x20 == 0 {
		if indefinite {
			return nil, nil, malformed("indefinite length on a primitive element")
		}
		return appendDER(dst, tag, content), rest, nil
	}
	flatten := len(tag) == 1 && tag[0]&0xc0 == 0 && isStringTag(tag[0]&0x1f)
	if flatten {
		dst = append(dst, tag[0]&^0x20)
	} else {
		dst = append(dst, tag...)
	}
	// Reserve the longest length header, fill it in when the content is
	// known, then close the gap.
	hdr := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0)
	start := len(dst)
	src := content
	if indefinite {
		src = rest
	}
	for {
		if indefinite {
			if len(src) >= 2 && src[0] == 0 && src[1] == 0 {
				rest = src[2:]
				break
			}
			if len(src) == 0 {
				return nil, nil, malformed("indefinite length without end-of-contents")
			}
		} else if len(src) == 0 {
			break
		}
		if dst, src, err = appendBER(dst, src, depth+1); err != nil {
			return nil, nil, err
		}
	}
	if flatten {
		// X.690 §8.21: the value is the concatenation of the segments'
		// contents; the segments are primitive after conversion.
		n, err := joinSegments(dst[start:])
		if err != nil {
			return nil, nil, err
		}
		dst = dst[:start+n]
	}
	l := len(dst) - start
	h := appendLength(make([]byte, 0, 5), l)
	copy(dst[hdr:], h)
	copy(dst[hdr+len(h):], dst[start:])
	return dst[:hdr+len(h)+l], rest, nil
}

func isStringTag(n byte) bool {
	switch n {
	case 4, 12, 19, 20, 22, 26, 28, 30: // OCTET, UTF8, Printable, T61, IA5, Visible, Universal, BMP
		return true
	}
	return false
}

// joinSegments moves the contents of the consecutive primitive elements in
// b to its start and returns their total length.
func joinSegments(b []byte) (int, error) {
	n := 0
	for rest := b; len(rest) > 0; {
		tag, content, after, indefinite, err := readBERHeader(rest)
		if err != nil {
			return 0, err
		}
		if indefinite || tag[0]&0x20 != 0 {
			return 0, malformed("bad constructed string segment")
		}
		// The write position never passes the read position: every
		// segment's header is dropped.
		n += copy(b[n:], content)
		rest = after
	}
	return n, nil
}

// readBERHeader splits an element into identifier octets and content. For
// an indefinite length, content is nil and rest starts at the first child.
func readBERHeader(in []byte) (tag, content, rest []byte, indefinite bool, err error) {
	if len(in) < 2 {
		return nil, nil, nil, false, malformed("truncated BER element")
	}
	n := 1
	if in[0]&0x1f == 0x1f {
		for n < len(in) && n < 6 && in[n]&0x80 != 0 {
			n++
		}
		n++
		if n >= len(in) {
			return nil, nil, nil, false, malformed("bad BER tag")
		}
	}
	tag = in[:n]
	l := in[n]
	n++
	switch {
	case l == 0x80:
		return tag, nil, in[n:], true, nil
	case l < 0x80:
		if int(l) > len(in)-n {
			return nil, nil, nil, false, malformed("BER length past the end")
		}
		return tag, in[n : n+int(l)], in[n+int(l):], false, nil
	}
	k := int(l & 0x7f)
	if k > 4 || k > len(in)-n {
		return nil, nil, nil, false, malformed("bad BER length")
	}
	length := 0
	for _, b := range in[n : n+k] {
		length = length<<8 | int(b)
	}
	n += k
	if length < 0 || length > len(in)-n {
		return nil, nil, nil, false, malformed("BER length past the end")
	}
	return tag, in[n : n+length], in[n+length:], false, nil
}

// appendDER appends an element with a definite minimal length.
func appendDER(dst, tag, content []byte) []byte {
	dst = append(dst, tag...)
	dst = appendLength(dst, len(content))
	return append(dst, content...)
}

// appendLength appends a minimal definite length (X.690 §10.1).
func appendLength(dst []byte, l int) []byte {
	switch {
	case l < 0x80:
		return append(dst, byte(l))
	case l <= 0xff:
		return append(dst, 0x81, byte(l))
	case l <= 0xffff:
		return append(dst, 0x82, byte(l>>8), byte(l))
	case l <= 0xffffff:
		return append(dst, 0x83, byte(l>>16), byte(l>>8), byte(l))
	}
	return append(dst, 0x84, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
}
