package pdf

import (
	"bytes"
	"fmt"
)

// parser builds objects from the tokens of a lexer (ISO 32000-2 §7.3).
type parser struct {
	lex      lexer
	maxDepth int
}

func newParser(data []byte, base int64, final bool, maxDepth int) *parser {
	return &parser{lex: lexer{data: data, base: base, final: final}, maxDepth: maxDepth}
}

func isKeyword(t token, kw string) bool {
	return t.kind == tokKeyword && string(t.raw) == kw
}

// object parses one direct object, or an indirect reference "n g R".
func (p *parser) object() (Object, error) {
	t, err := p.lex.next()
	if err != nil {
		return nil, err
	}
	return p.objectFrom(t, 0)
}

func (p *parser) objectFrom(t token, depth int) (Object, error) {
	switch t.kind {
	case tokEOF:
		return nil, p.lex.more(t.pos, "unexpected end of data, want an object")
	case tokInteger:
		if t.i >= 0 && t.i <= maxObjectNumber {
			if r, ok, err := p.refAfter(t); err != nil || ok {
				return r, err
			}
		}
		return Integer(t.i), nil
	case tokReal:
		return Real(t.f), nil
	case tokString:
		return String(t.raw), nil
	case tokHex:
		return HexString(t.raw), nil
	case tokName:
		return Name(t.raw), nil
	case tokKeyword:
		switch string(t.raw) {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		case "null":
			return nil, nil
		}
		return nil, p.lex.errorf(t.pos, "unexpected keyword "+quoteKeyword(t.raw))
	case tokArrayOpen:
		if depth >= p.maxDepth {
			return nil, p.limitErr(t.pos)
		}
		return p.array(depth + 1)
	case tokDictOpen:
		if depth >= p.maxDepth {
			return nil, p.limitErr(t.pos)
		}
		return p.dict(depth + 1)
	case tokArrayClose:
		return nil, p.lex.errorf(t.pos, "unexpected ']'")
	case tokDictClose:
		return nil, p.lex.errorf(t.pos, "unexpected '>>'")
	}
	return nil, p.lex.errorf(t.pos, "unexpected token")
}

func (p *parser) limitErr(pos int) error {
	return fmt.Errorf("%w: nesting depth over %d at offset %d", ErrLimit, p.maxDepth, p.lex.base+int64(pos))
}

func quoteKeyword(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return "\"" + string(bytes.ToValidUTF8(b, []byte("?"))) + "\""
}

// refAfter looks ahead for "g R" after the integer t. When the lookahead
// does not form a reference, the lexer position is restored.
func (p *parser) refAfter(t token) (Object, bool, error) {
	save := p.lex.pos
	t2, err := p.lex.next()
	if err != nil {
		if err == errNeedMore {
			return nil, false, err
		}
		p.lex.pos = save
		return nil, false, nil
	}
	if t2.kind != tokInteger || t2.i < 0 || t2.i > 65535 {
		p.lex.pos = save
		return nil, false, nil
	}
	t3, err := p.lex.next()
	if err != nil {
		if err == errNeedMore {
			return nil, false, err
		}
		p.lex.pos = save
		return nil, false, nil
	}
	if !isKeyword(t3, "R") {
		p.lex.pos = save
		return nil, false, nil
	}
	return Ref{Num: uint32(t.i), Gen: uint16(t2.i)}, true, nil
}

func (p *parser) array(depth int) (Object, error) {
	a := Array{}
	for {
		t, err := p.lex.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokArrayClose {
			return a, nil
		}
		if t.kind == tokEOF {
			return nil, p.lex.more(t.pos, "unterminated array")
		}
		o, err := p.objectFrom(t, depth)
		if err != nil {
			return nil, err
		}
		a = append(a, o)
	}
}

func (p *parser) dict(depth int) (Object, error) {
	d := Dict{}
	for {
		t, err := p.lex.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokDictClose {
			return d, nil
		}
		if t.kind == tokEOF {
			return nil, p.lex.more(t.pos, "unterminated dictionary")
		}
		if t.kind != tokName {
			return nil, p.lex.errorf(t.pos, "dictionary key is not a name")
		}
		key := Name(t.raw)
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		if v == nil {
			// A null value is the same as an absent key (ISO 32000-2 §7.3.7).
			delete(d, key)
			continue
		}
		d[key] = v
	}
}

// value parses a value nested at depth.
func (p *parser) value(depth int) (Object, error) {
	t, err := p.lex.next()
	if err != nil {
		return nil, err
	}
	if t.kind == tokDictClose {
		return nil, p.lex.errorf(t.pos, "dictionary key without a value")
	}
	return p.objectFrom(t, depth)
}

// indirect parses "num gen obj <object>" and what follows the object:
// "endobj", or "stream" (then streamPos is the lexer position just after
// the keyword, else -1). A missing endobj is tolerated.
func (p *parser) indirect() (ref Ref, obj Object, streamPos int, err error) {
	t1, err := p.lex.next()
	if err != nil {
		return Ref{}, nil, -1, err
	}
	t2, err := p.lex.next()
	if err != nil {
		return Ref{}, nil, -1, err
	}
	t3, err := p.lex.next()
	if err != nil {
		return Ref{}, nil, -1, err
	}
	if t1.kind != tokInteger || t2.kind != tokInteger || !isKeyword(t3, "obj") ||
		t1.i < 0 || t1.i > maxObjectNumber || t2.i < 0 || t2.i > 65535 {
		return Ref{}, nil, -1, p.lex.errorf(t1.pos, "want an object header \"n g obj\"")
	}
	ref = Ref{Num: uint32(t1.i), Gen: uint16(t2.i)}
	t, err := p.lex.next()
	if err != nil {
		return Ref{}, nil, -1, err
	}
	if isKeyword(t, "endobj") {
		// "n g obj endobj" is an empty object: null.
		return ref, nil, -1, nil
	}
	obj, err = p.objectFrom(t, 0)
	if err != nil {
		return Ref{}, nil, -1, err
	}
	save := p.lex.pos
	t, err = p.lex.next()
	if err != nil {
		if err == errNeedMore {
			return Ref{}, nil, -1, err
		}
		return ref, obj, -1, nil
	}
	if isKeyword(t, "stream") {
		return ref, obj, p.lex.pos, nil
	}
	if !isKeyword(t, "endobj") {
		p.lex.pos = save
	}
	return ref, obj, -1, nil
}

// maxObjectNumber bounds object numbers (ISO 32000-2 Annex C suggests
// 8,388,607 as a practical limit).
const maxObjectNumber = 1<<23 - 1
