package pdf

import (
	"bytes"
	"strconv"
)

// tokenKind classifies a lexical token (ISO 32000-2 §7.2).
type tokenKind uint8

const (
	tokEOF        tokenKind = iota
	tokInteger              // 123, -4, +5
	tokReal                 // 1.5, -.5, 4.
	tokString               // (literal)
	tokHex                  // <hex>
	tokName                 // /Name
	tokKeyword              // true, false, null, R, obj, stream, ...
	tokArrayOpen            // [
	tokArrayClose           // ]
	tokDictOpen             // <<
	tokDictClose            // >>
)

// token is one lexical token. For tokKeyword, raw aliases the input; for
// tokName and tokString/tokHex, raw is a fresh decoded copy.
type token struct {
	kind tokenKind
	pos  int // offset of the first byte within the lexer's data
	raw  []byte
	i    int64
	f    float64
}

// lexer splits PDF bytes into tokens. It works on one window of the file;
// final says whether the window ends where the data ends. When a token runs
// into the end of a non-final window, next returns errNeedMore.
type lexer struct {
	data  []byte
	pos   int
	base  int64 // file offset of data[0], for error messages
	final bool
}

// isSpace reports PDF white-space characters (ISO 32000-2 §7.2.3, Table 1).
func isSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

// isDelim reports PDF delimiter characters (ISO 32000-2 §7.2.3, Table 2).
func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// isRegular reports characters that are neither white space nor delimiters.
func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

func (l *lexer) errorf(pos int, msg string) error {
	return &SyntaxError{Offset: l.base + int64(pos), Msg: msg}
}

// more is the error for running off the end of the data at pos.
func (l *lexer) more(pos int, what string) error {
	if !l.final {
		return errNeedMore
	}
	return l.errorf(pos, what)
}

// skipSpace skips white space and comments. It returns errNeedMore when a
// comment runs to the end of a non-final window.
func (l *lexer) skipSpace() error {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		if isSpace(c) {
			l.pos++
			continue
		}
		if c != '%' {
			return nil
		}
		for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
			l.pos++
		}
	}
	if !l.final {
		return errNeedMore
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	if l.pos >= len(l.data) {
		return token{kind: tokEOF, pos: l.pos}, nil
	}
	start := l.pos
	c := l.data[l.pos]
	switch c {
	case '[':
		l.pos++
		return token{kind: tokArrayOpen, pos: start}, nil
	case ']':
		l.pos++
		return token{kind: tokArrayClose, pos: start}, nil
	case '{', '}':
		// PostScript calculator braces: keep them as keywords.
		l.pos++
		return token{kind: tokKeyword, pos: start, raw: l.data[start:l.pos]}, nil
	case '<':
		if l.pos+1 >= len(l.data) {
			return token{}, l.more(start, "unexpected end of data after '<'")
		}
		if l.data[l.pos+1] == '<' {
			l.pos += 2
			return token{kind: tokDictOpen, pos: start}, nil
		}
		return l.hexString()
	case '>':
		if l.pos+1 >= len(l.data) {
			return token{}, l.more(start, "unexpected end of data after '>'")
		}
		if l.data[l.pos+1] == '>' {
			l.pos += 2
			return token{kind: tokDictClose, pos: start}, nil
		}
		l.pos++
		return token{}, l.errorf(start, "unexpected '>'")
	case ')':
		l.pos++
		return token{}, l.errorf(start, "unbalanced ')'")
	case '(':
		return l.literalString()
	case '/':
		return l.name()
	}
	// A run of regular characters: a number or a keyword.
	end := l.pos
	for end < len(l.data) && isRegular(l.data[end]) {
		end++
	}
	if end == len(l.data) && !l.final {
		return token{}, errNeedMore
	}
	l.pos = end
	word := l.data[start:end]
	if t, ok := parseNumber(word); ok {
		t.pos = start
		return t, nil
	}
	return token{kind: tokKeyword, pos: start, raw: word}, nil
}

// parseNumber parses an integer or real number (ISO 32000-2 §7.3.3): an
// optional sign, digits with at most one period, at least one digit.
func parseNumber(w []byte) (token, bool) {
	i := 0
	if len(w) > 0 && (w[0] == '+' || w[0] == '-') {
		i++
	}
	digits, dots := 0, 0
	for _, c := range w[i:] {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return token{}, false
		}
	}
	if digits == 0 || dots > 1 {
		return token{}, false
	}
	if dots == 0 {
		if n, err := strconv.ParseInt(string(w), 10, 64); err == nil {
			return token{kind: tokInteger, i: n}, true
		}
		// Integers too big for int64 become reals, as readers do.
	}
	s := string(w)
	if s[0] == '+' {
		s = s[1:]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range: ParseFloat returns ±Inf, which we refuse.
		return token{}, false
	}
	return token{kind: tokReal, f: f}, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// name lexes a name object; #xx escapes are decoded (ISO 32000-2 §7.3.5).
func (l *lexer) name() (token, error) {
	start := l.pos
	end := l.pos + 1
	for end < len(l.data) && isRegular(l.data[end]) {
		end++
	}
	if end == len(l.data) && !l.final {
		return token{}, errNeedMore
	}
	l.pos = end
	raw := l.data[start+1 : end]
	if bytes.IndexByte(raw, '#') < 0 {
		return token{kind: tokName, pos: start, raw: raw}, nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '#' && i+2 < len(raw) {
			h, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		// A '#' not followed by two hex digits is kept as is, as PDF 1.1
		// readers did.
		out = append(out, c)
	}
	return token{kind: tokName, pos: start, raw: out}, nil
}

// hexString lexes "<...>"; white space is ignored and an odd final digit is
// followed by an implied 0 (ISO 32000-2 §7.3.4.3).
func (l *lexer) hexString() (token, error) {
	start := l.pos
	i := l.pos + 1
	out := make([]byte, 0, 16)
	var hi byte
	half := false
	for ; i < len(l.data); i++ {
		c := l.data[i]
		if c == '>' {
			if half {
				out = append(out, hi<<4)
			}
			l.pos = i + 1
			return token{kind: tokHex, pos: start, raw: out}, nil
		}
		if isSpace(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return token{}, l.errorf(i, "invalid character in hexadecimal string")
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	return token{}, l.more(start, "unterminated hexadecimal string")
}

// literalString lexes "(...)" with balanced parentheses, escapes, octal
// codes and line continuations (ISO 32000-2 §7.3.4.2).
func (l *lexer) literalString() (token, error) {
	start := l.pos
	d := l.data
	i := l.pos + 1
	depth := 1
	out := make([]byte, 0, 32)
	for i < len(d) {
		c := d[i]
		switch c {
		case '(':
			depth++
			out = append(out, c)
			i++
		case ')':
			depth--
			i++
			if depth == 0 {
				l.pos = i
				return token{kind: tokString, pos: start, raw: out}, nil
			}
			out = append(out, c)
		case '\r':
			// An unescaped end-of-line is read as a single LF.
			out = append(out, '\n')
			i++
			if i < len(d) && d[i] == '\n' {
				i++
			}
		case '\\':
			i++
			if i >= len(d) {
				return token{}, l.more(start, "unterminated string")
			}
			e := d[i]
			i++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if i < len(d) && d[i] == '\n' {
					i++
				}
			case '\n':
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for k := 0; k < 2 && i < len(d) && d[i] >= '0' && d[i] <= '7'; k++ {
					v = v*8 + int(d[i]-'0')
					i++
				}
				// High-order overflow is ignored (ISO 32000-2 §7.3.4.2).
				out = append(out, byte(v))
			default:
				// "\(", "\)", "\\" and unknown escapes: the character.
				out = append(out, e)
			}
		default:
			out = append(out, c)
			i++
		}
	}
	return token{}, l.more(start, "unterminated string")
}
