package pdf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Kinds of cross-reference entries (ISO 32000-2 §7.5.4 and §7.5.8.3).
const (
	entryFree       = 1 // free object: reading it gives null
	entryInUse      = 2 // uncompressed object at a byte offset
	entryCompressed = 3 // object number idx-th in an object stream
)

// xrefEntry locates one object. For entryCompressed, off is the number of
// the object stream and idx the index within it.
type xrefEntry struct {
	kind uint8
	gen  uint16
	idx  uint32
	off  int64
}

// xrefTable maps object numbers to their newest entries. Numbers below a
// bound set from the trailer /Size (and the file size, so that a hostile
// /Size cannot allocate much) live in a slice; others in a map.
type xrefTable struct {
	dense  []xrefEntry // by object number; kind 0 means unset
	sparse map[uint32]xrefEntry
	limit  int // maximum len(dense)
}

func (x *xrefTable) get(num uint32) (xrefEntry, bool) {
	if int64(num) < int64(len(x.dense)) {
		e := x.dense[num]
		return e, e.kind != 0
	}
	e, ok := x.sparse[num]
	return e, ok
}

// setIfAbsent records e unless num already has a (newer) entry.
func (x *xrefTable) setIfAbsent(num uint32, e xrefEntry) {
	if int64(num) < int64(x.limit) {
		if int(num) >= len(x.dense) {
			x.dense = append(x.dense, make([]xrefEntry, int(num)+1-len(x.dense))...)
		}
		if x.dense[num].kind == 0 {
			x.dense[num] = e
		}
		return
	}
	if _, ok := x.sparse[num]; ok {
		return
	}
	if x.sparse == nil {
		x.sparse = make(map[uint32]xrefEntry)
	}
	x.sparse[num] = e
}

// maxNum returns the largest object number with an entry, or -1.
func (x *xrefTable) maxNum() int64 {
	m := int64(-1)
	for i := len(x.dense) - 1; i >= 0; i-- {
		if x.dense[i].kind != 0 {
			m = int64(i)
			break
		}
	}
	for num := range x.sparse {
		m = max(m, int64(num))
	}
	return m
}

// numEntry is an entry with its object number, in file order.
type numEntry struct {
	num uint32
	e   xrefEntry
}

// startXRefTail is how much of the end of the file is searched for
// "startxref" and "%%EOF" (ISO 32000-2 §7.5.5).
const startXRefTail = 1024

// findStartXRef returns the offset written after the last "startxref".
// A file without "startxref" or "%%EOF" near its end is truncated.
func (r *Reader) findStartXRef() (int64, error) {
	n := min(r.size, startXRefTail)
	buf := make([]byte, n)
	if _, err := r.ra.ReadAt(buf, r.size-n); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read file tail: %w", err)
	}
	i := bytes.LastIndex(buf, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("%w: no startxref at the end of the file", ErrTruncated)
	}
	if !bytes.Contains(buf[i:], []byte("%%EOF")) {
		return 0, fmt.Errorf("%w: no %%%%EOF at the end of the file", ErrTruncated)
	}
	lx := lexer{data: buf[i+len("startxref"):], base: r.size - n + int64(i+len("startxref")), final: true}
	t, err := lx.next()
	if err != nil {
		return 0, err
	}
	if t.kind != tokInteger || t.i < 0 {
		return 0, fmt.Errorf("%w: startxref is not followed by an offset", ErrDamaged)
	}
	return t.i, nil
}

// errNotXRef reports that an offset holds neither an xref table nor an xref
// stream; Open then tries to repair.
var errNotXRef = errors.New("pdf: no cross-reference section at offset")

// section is one parsed cross-reference section.
type section struct {
	trailer Dict
	stream  bool
	entries []numEntry
}

// readSection reads the xref table or stream at off. A table's /XRefStm
// (hybrid file, ISO 32000-2 §7.5.8.4) is read too, and its entries come
// first so that they override the table's.
func (r *Reader) readSection(off int64) (*section, error) {
	if off <= 0 || off >= r.size {
		if off >= r.size {
			return nil, fmt.Errorf("%w: xref offset %d beyond end of file (%d bytes)", ErrTruncated, off, r.size)
		}
		return nil, fmt.Errorf("%w %d", errNotXRef, off)
	}
	head := make([]byte, min(16, r.size-off))
	if _, err := r.ra.ReadAt(head, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if bytes.HasPrefix(head, []byte("xref")) {
		sec, err := r.readTable(off)
		if err != nil {
			return nil, err
		}
		if x, ok := sec.trailer["XRefStm"].(Integer); ok {
			hs, err := r.readXRefStream(int64(x))
			if err != nil {
				return nil, fmt.Errorf("read /XRefStm of hybrid file: %w", err)
			}
			sec.entries = append(hs.entries, sec.entries...)
		}
		return sec, nil
	}
	if len(head) == 0 || head[0] < '0' || head[0] > '9' {
		return nil, fmt.Errorf("%w %d", errNotXRef, off)
	}
	sec, err := r.readXRefStream(off)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) || errors.Is(err, errNotXRef) {
			return nil, fmt.Errorf("%w %d: %w", errNotXRef, off, err)
		}
		return nil, err
	}
	return sec, nil
}

// wordReader reads white-space separated words of an xref table.
type wordReader struct {
	br  *bufio.Reader
	pos int64 // file offset of the next byte
}

func (w *wordReader) word(buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		c, err := w.br.ReadByte()
		if err != nil {
			return nil, err
		}
		w.pos++
		if isSpace(c) {
			continue
		}
		buf = append(buf, c)
		break
	}
	for len(buf) < 64 {
		c, err := w.br.ReadByte()
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if isSpace(c) || isDelim(c) {
			if err := w.br.UnreadByte(); err != nil {
				return nil, err
			}
			return buf, nil
		}
		w.pos++
		buf = append(buf, c)
	}
	return buf, nil
}

func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// readTable reads a classic cross-reference table and its trailer (ISO
// 32000-2 §7.5.4, §7.5.5). Entry lines of 19 or 20 bytes and any white
// space between fields are accepted.
func (r *Reader) readTable(off int64) (*section, error) {
	w := &wordReader{br: bufio.NewReaderSize(io.NewSectionReader(r.ra, off, r.size-off), 16<<10), pos: off}
	bad := func(msg string) error {
		return fmt.Errorf("%w: %w", ErrDamaged, &SyntaxError{Offset: w.pos, Msg: msg})
	}
	var wb [64]byte
	kw, err := w.word(wb[:])
	if err != nil || string(kw) != "xref" {
		return nil, fmt.Errorf("%w %d", errNotXRef, off)
	}
	sec := &section{}
	for {
		word, err := w.word(wb[:])
		if err != nil {
			return nil, fmt.Errorf("%w: xref table at %d ends early", ErrTruncated, off)
		}
		if string(word) == "trailer" {
			break
		}
		start, ok1 := atoi(word)
		word, err = w.word(wb[:])
		if err != nil {
			return nil, fmt.Errorf("%w: xref table at %d ends early", ErrTruncated, off)
		}
		count, ok2 := atoi(word)
		if !ok1 || !ok2 {
			return nil, bad("bad xref subsection header")
		}
		if start+count > int64(r.opts.MaxObjects) || len(sec.entries)+int(count) > r.opts.MaxObjects {
			return nil, fmt.Errorf("%w: xref subsection of %d objects", ErrLimit, count)
		}
		for i := range count {
			fo, err1 := w.word(wb[:])
			fo1, ok1 := atoi(fo)
			fg, err2 := w.word(wb[:])
			fg1, ok2 := atoi(fg)
			ft, err3 := w.word(wb[:])
			if err1 != nil || err2 != nil || err3 != nil {
				return nil, fmt.Errorf("%w: xref table at %d ends early", ErrTruncated, off)
			}
			if !ok1 || !ok2 || len(ft) != 1 {
				return nil, bad("bad xref entry")
			}
			if fg1 > 65535 {
				// Some writers give the head of the free list generation
				// 65536. A free entry's generation only says whether its
				// number may be used again, and 65535 already says never.
				if ft[0] != 'f' {
					return nil, bad("bad xref entry")
				}
				fg1 = 65535
			}
			e := xrefEntry{gen: uint16(fg1), off: fo1}
			switch ft[0] {
			case 'n':
				e.kind = entryInUse
			case 'f':
				e.kind = entryFree
			default:
				return nil, bad("bad xref entry type")
			}
			if err := r.spendEntry(); err != nil {
				return nil, err
			}
			sec.entries = append(sec.entries, numEntry{num: uint32(start + i), e: e})
		}
	}
	_, obj, _, err := r.parseAt(w.pos, false)
	if err != nil {
		return nil, fmt.Errorf("%w: trailer at %d: %w", ErrDamaged, w.pos, err)
	}
	d, ok := obj.(Dict)
	if !ok {
		return nil, bad("trailer is not a dictionary")
	}
	sec.trailer = d
	return sec, nil
}

// readXRefStream reads a cross-reference stream (ISO 32000-2 §7.5.8).
func (r *Reader) readXRefStream(off int64) (*section, error) {
	_, obj, err := r.readObjectAt(off)
	if err != nil {
		return nil, err
	}
	s, ok := obj.(*Stream)
	if !ok {
		return nil, fmt.Errorf("%w %d: object is not a stream", errNotXRef, off)
	}
	if t, _ := s.Dict["Type"].(Name); t != "XRef" {
		return nil, fmt.Errorf("%w %d: stream /Type is not /XRef", errNotXRef, off)
	}
	s.plain = true
	data, err := r.StreamData(s)
	if err != nil {
		return nil, fmt.Errorf("%w: xref stream at %d: %w", ErrDamaged, off, err)
	}
	ws, _ := s.Dict["W"].(Array)
	if len(ws) != 3 {
		return nil, fmt.Errorf("%w: xref stream at %d: bad /W", ErrDamaged, off)
	}
	var w [3]int
	for i, x := range ws {
		v, ok := x.(Integer)
		if !ok || v < 0 || v > 8 {
			return nil, fmt.Errorf("%w: xref stream at %d: bad /W", ErrDamaged, off)
		}
		w[i] = int(v)
	}
	rowLen := w[0] + w[1] + w[2]
	if rowLen == 0 {
		return nil, fmt.Errorf("%w: xref stream at %d: empty /W", ErrDamaged, off)
	}
	size, _ := s.Dict["Size"].(Integer)
	index := Array{Integer(0), size}
	if a, ok := s.Dict["Index"].(Array); ok {
		index = a
	}
	if len(index)%2 != 0 {
		return nil, fmt.Errorf("%w: xref stream at %d: odd /Index", ErrDamaged, off)
	}
	sec := &section{trailer: s.Dict, stream: true}
	pos := 0
	for k := 0; k < len(index); k += 2 {
		start, ok1 := index[k].(Integer)
		count, ok2 := index[k+1].(Integer)
		if !ok1 || !ok2 || start < 0 || count < 0 {
			return nil, fmt.Errorf("%w: xref stream at %d: bad /Index", ErrDamaged, off)
		}
		if int64(start)+int64(count) > int64(r.opts.MaxObjects) {
			return nil, fmt.Errorf("%w: xref stream subsection of %d objects", ErrLimit, count)
		}
		for i := range int64(count) {
			if pos+rowLen > len(data) {
				// Entries beyond the data are absent; stop quietly, as
				// the /Index may overstate what was written.
				return sec, nil
			}
			row := data[pos : pos+rowLen]
			pos += rowLen
			typ := int64(1)
			if w[0] > 0 {
				typ = beInt(row[:w[0]])
			}
			f2 := beInt(row[w[0] : w[0]+w[1]])
			f3 := beInt(row[w[0]+w[1]:])
			num := uint32(int64(start) + i)
			var e xrefEntry
			switch typ {
			case 0:
				e = xrefEntry{kind: entryFree, gen: uint16(min(f3, 65535))}
			case 1:
				if w[2] == 0 {
					f3 = 0
				}
				e = xrefEntry{kind: entryInUse, off: f2, gen: uint16(f3)}
			case 2:
				e = xrefEntry{kind: entryCompressed, off: f2, idx: uint32(f3)}
			default:
				// Unknown types are references to the null object.
				e = xrefEntry{kind: entryFree}
			}
			if err := r.spendEntry(); err != nil {
				return nil, err
			}
			sec.entries = append(sec.entries, numEntry{num: num, e: e})
		}
	}
	return sec, nil
}

// spendEntry counts one cross-reference entry against a budget for all
// sections, proportional to the file size: a real file spends at least a
// few bytes on each object it lists, and hostile compressed xref streams
// must not make work or memory grow without bound.
func (r *Reader) spendEntry() error {
	if r.entryBudget <= 0 {
		return fmt.Errorf("%w: more cross-reference entries than a %d-byte file can hold", ErrLimit, r.size)
	}
	r.entryBudget--
	return nil
}

// beInt decodes a big-endian unsigned field of at most 8 bytes.
func beInt(b []byte) int64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return int64(v & (1<<63 - 1))
}

// maxSectionLead is how much white space before a cross-reference section
// an offset to it may point at.
const maxSectionLead = 64

// sectionStart returns off moved past white space, when a section follows
// it within maxSectionLead bytes. Some writers point startxref or /Prev
// at the line end before the section, and readers accept it; the section
// is then known by its real offset.
func (r *Reader) sectionStart(off int64) int64 {
	if off <= 0 || off >= r.size {
		return off
	}
	buf := make([]byte, min(maxSectionLead, r.size-off))
	n, _ := r.ra.ReadAt(buf, off)
	i := 0
	for i < n && isSpace(buf[i]) {
		i++
	}
	if i == 0 || i == n {
		return off
	}
	return off + int64(i)
}

// loadXRef reads the newest section at start and every older one through
// /Prev, merging entries so that the newest definition of each object
// wins (ISO 32000-2 §7.5.6).
func (r *Reader) loadXRef(start int64) error {
	start = r.sectionStart(start)
	newest, err := r.readSection(start)
	if err != nil {
		return err
	}
	r.startXRef = start
	r.trailer = newest.trailer
	r.xrefStream = newest.stream
	return r.mergeChain(newest)
}

func (r *Reader) mergeChain(sec *section) error {
	seen := map[int64]bool{r.startXRef: true}
	for n := 0; ; n++ {
		if n >= r.opts.MaxXRefSections {
			return fmt.Errorf("%w: more than %d xref sections", ErrLimit, r.opts.MaxXRefSections)
		}
		if r.xref.limit == 0 {
			sz, _ := sec.trailer["Size"].(Integer)
			r.xref.limit = int(max(0, min(int64(sz), int64(r.opts.MaxObjects), r.size+1024)))
			r.xref.dense = make([]xrefEntry, 0, r.xref.limit)
		}
		for _, ne := range sec.entries {
			r.xref.setIfAbsent(ne.num, ne.e)
		}
		if sz, ok := sec.trailer["Size"].(Integer); ok && sz > 0 && int64(sz) <= int64(r.opts.MaxObjects) && uint32(sz) > r.nextNum {
			r.nextNum = uint32(sz)
		}
		prev, ok := sec.trailer["Prev"].(Integer)
		if !ok {
			if m := r.xref.maxNum(); m >= int64(r.nextNum) {
				r.nextNum = uint32(m + 1)
			}
			return nil
		}
		if seen[int64(prev)] {
			return fmt.Errorf("%w: /Prev loop at offset %d", ErrDamaged, prev)
		}
		seen[int64(prev)] = true
		next, err := r.readSection(r.sectionStart(int64(prev)))
		if errors.Is(err, errNotXRef) {
			// Only a wrong startxref is repaired; a wrong /Prev is damage.
			return fmt.Errorf("%w: /Prev %d does not point at a cross-reference section", ErrDamaged, prev)
		}
		if err != nil {
			return fmt.Errorf("%w: /Prev %d: %w", ErrDamaged, prev, err)
		}
		sec = next
	}
}
