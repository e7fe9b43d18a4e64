package pdf

import (
	"bytes"
	"fmt"
)

// repairChunk is the size of the blocks read backwards when looking for
// the newest cross-reference section.
const repairChunk = 64 << 10

// repairSample bounds how many in-use entries of a recovered section are
// checked against the object headers they point at.
const repairSample = 64

// repair recovers from a startxref that does not point at a
// cross-reference section: it takes the last "xref" keyword or
// cross-reference stream object in the file, and accepts it only when it
// is a table (hybrid files included), parses, and its entries point at
// matching "n g obj" headers. Then the
// chain is read from there as usual and Repaired reports true.
func (r *Reader) repair(start int64) error {
	off, err := r.lastXRefCandidate()
	if err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("%w: startxref %d does not point at a cross-reference section, and none was found", ErrDamaged, start)
	}
	sec, err := r.readSection(off)
	if err != nil {
		return fmt.Errorf("%w: recovered xref section at %d: %w", ErrDamaged, off, err)
	}
	if sec.stream {
		// Readers rebuild a damaged file from its "trailer" dictionaries,
		// which a file of cross-reference streams does not have: they
		// cannot open the original, so nobody could check the repair
		// against it. Refused, as DESIGN.md §2 asks when in doubt.
		return fmt.Errorf("%w: startxref %d does not point at the cross-reference stream at %d, and other readers cannot rebuild such a file", ErrDamaged, start, off)
	}
	if err := r.checkEntries(sec); err != nil {
		return err
	}
	r.xref = xrefTable{}
	clear(r.cache)
	r.nextNum = 0
	r.startXRef = off
	r.trailer = sec.trailer
	r.xrefStream = sec.stream
	if err := r.mergeChain(sec); err != nil {
		return err
	}
	r.repaired = true
	return nil
}

// checkEntries verifies that in-use entries of sec (a sample spread over
// the section) point at headers of the objects they name.
func (r *Reader) checkEntries(sec *section) error {
	var inUse []numEntry
	for _, ne := range sec.entries {
		if ne.e.kind == entryInUse {
			inUse = append(inUse, ne)
		}
	}
	if len(inUse) == 0 {
		return fmt.Errorf("%w: recovered xref section has no objects", ErrDamaged)
	}
	step := max(1, len(inUse)/repairSample)
	for i := 0; i < len(inUse); i += step {
		if err := r.checkHeader(inUse[i]); err != nil {
			return err
		}
	}
	return r.checkHeader(inUse[len(inUse)-1])
}

func (r *Reader) checkHeader(ne numEntry) error {
	if ne.e.off <= 0 || ne.e.off >= r.size {
		return fmt.Errorf("%w: recovered xref entry %d points outside the file", ErrDamaged, ne.num)
	}
	buf, err := r.window(ne.e.off, 64)
	if err != nil {
		return err
	}
	lx := lexer{data: buf, base: ne.e.off, final: true}
	t1, err1 := lx.next()
	t2, err2 := lx.next()
	t3, err3 := lx.next()
	if err1 != nil || err2 != nil || err3 != nil || t1.kind != tokInteger || t2.kind != tokInteger ||
		!isKeyword(t3, "obj") || t1.i != int64(ne.num) || t2.i != int64(ne.e.gen) {
		return fmt.Errorf("%w: recovered xref entry %d %d does not point at its object", ErrDamaged, ne.num, ne.e.gen)
	}
	return nil
}

// lastXRefCandidate returns the offset of the last "xref" keyword (not
// part of "startxref") or of the last cross-reference stream object in the
// file, or -1.
func (r *Reader) lastXRefCandidate() (int64, error) {
	const overlap = 256
	buf := make([]byte, repairChunk+overlap)
	for end := r.size; end > 0; {
		begin := max(0, end-repairChunk)
		n := min(end+overlap, r.size) - begin
		b := buf[:n]
		if m, err := r.ra.ReadAt(b, begin); int64(m) < n {
			return -1, fmt.Errorf("read at %d: %w", begin, err)
		}
		best := int64(-1)
		if i := lastTableKeyword(b); i >= 0 {
			best = begin + int64(i)
		}
		if i := lastXRefStreamHeader(b); i >= 0 && begin+int64(i) > best {
			best = begin + int64(i)
		}
		if best >= 0 {
			return best, nil
		}
		end = begin
	}
	return -1, nil
}

// lastTableKeyword finds the last "xref" that stands alone as a keyword.
func lastTableKeyword(b []byte) int {
	for end := len(b); ; {
		i := bytes.LastIndex(b[:end], []byte("xref"))
		if i < 0 {
			return -1
		}
		before := i == 0 || isSpace(b[i-1])
		after := i+4 < len(b) && isSpace(b[i+4])
		if before && after {
			return i
		}
		end = i
	}
}

// lastXRefStreamHeader finds the "n g obj" header of the last object whose
// dictionary has /Type /XRef.
func lastXRefStreamHeader(b []byte) int {
	for end := len(b); ; {
		i := bytes.LastIndex(b[:end], []byte("/XRef"))
		if i < 0 {
			return -1
		}
		end = i
		if i+5 < len(b) && isRegular(b[i+5]) {
			continue // "/XRefStm"
		}
		// The /Type key precedes the value, possibly with white space.
		j := i - 1
		for j >= 0 && isSpace(b[j]) {
			j--
		}
		if j < 4 || string(b[j-4:j+1]) != "/Type" {
			continue
		}
		if h := objHeaderBefore(b, j-4); h >= 0 {
			return h
		}
	}
}

// objHeaderBefore returns the start of the last "n g obj" header that
// begins before pos, within 4 KiB.
func objHeaderBefore(b []byte, pos int) int {
	lo := max(0, pos-4096)
	for end := pos; end > lo; {
		k := bytes.LastIndex(b[lo:end], []byte("obj"))
		if k < 0 {
			return -1
		}
		k += lo
		end = k
		// Walk back over "g", white space, "n".
		p := k - 1
		for p >= 0 && isSpace(b[p]) {
			p--
		}
		q := p
		for q >= 0 && b[q] >= '0' && b[q] <= '9' {
			q--
		}
		if q == p {
			continue
		}
		p = q
		for p >= 0 && isSpace(b[p]) {
			p--
		}
		if p == q {
			continue
		}
		q = p
		for q >= 0 && b[q] >= '0' && b[q] <= '9' {
			q--
		}
		if q == p || q >= 0 && !isSpace(b[q]) && !isDelim(b[q]) {
			continue
		}
		return q + 1
	}
	return -1
}

// fullScanOverlap is how far before each block the full scan reads, so
// that a header split between blocks is seen whole.
const fullScanOverlap = 64

// fullScan rebuilds the cross-reference data from every "n g obj" header
// in the file, the later of two headers for one object winning, as an
// incremental update would. The trailer comes from the last "trailer"
// dictionary or cross-reference stream, else from the last catalog.
// Objects of object streams are added unless also found uncompressed.
// It is used only when Options.FullScanRepair allows it.
func (r *Reader) fullScan() error {
	tbl := xrefTable{limit: int(min(int64(r.opts.MaxObjects), r.size+1024))}
	set := func(num uint32, e xrefEntry) {
		if int64(num) < int64(tbl.limit) {
			if int(num) >= len(tbl.dense) {
				tbl.dense = append(tbl.dense, make([]xrefEntry, int(num)+1-len(tbl.dense))...)
			}
			tbl.dense[num] = e
			return
		}
		if tbl.sparse == nil {
			tbl.sparse = make(map[uint32]xrefEntry)
		}
		tbl.sparse[num] = e
	}
	var (
		trailerAt = int64(-1) // offset of the last "trailer" keyword
		xrefStmAt = int64(-1) // header of the last /Type /XRef object
		catalogAt = int64(-1) // header of the last /Type /Catalog object
		objStms   []int64     // headers of /Type /ObjStm objects
	)
	buf := make([]byte, repairChunk+fullScanOverlap)
	for off := int64(0); off < r.size; off += repairChunk {
		begin := max(0, off-fullScanOverlap)
		n := min(off+repairChunk, r.size) - begin
		b := buf[:n]
		if m, err := r.ra.ReadAt(b, begin); int64(m) < n {
			return fmt.Errorf("read at %d: %w", begin, err)
		}
		from := int(off - begin) // keywords before from belong to the previous block
		for i := from; ; {
			k := bytes.Index(b[i:], []byte("obj"))
			if k < 0 {
				break
			}
			k += i
			i = k + 3
			if k+3 < len(b) && isRegular(b[k+3]) {
				continue
			}
			num, gen, h, ok := objHeaderAt(b, k)
			if !ok {
				continue
			}
			if err := r.spendEntry(); err != nil {
				return err
			}
			set(num, xrefEntry{kind: entryInUse, gen: gen, off: begin + int64(h)})
		}
		if i := lastKeyword(b[from:], "trailer"); i >= 0 {
			trailerAt = begin + int64(from+i)
		}
		for _, typ := range []string{"XRef", "Catalog", "ObjStm"} {
			for _, p := range typePositions(b, from, typ) {
				h := objHeaderBefore(b, p)
				if h < 0 {
					continue
				}
				switch typ {
				case "XRef":
					xrefStmAt = max(xrefStmAt, begin+int64(h))
				case "Catalog":
					catalogAt = max(catalogAt, begin+int64(h))
				case "ObjStm":
					objStms = append(objStms, begin+int64(h))
				}
			}
		}
	}
	r.xref = tbl
	clear(r.cache)
	r.trailer = nil
	switch {
	case trailerAt > xrefStmAt:
		if _, o, _, err := r.parseAt(trailerAt+int64(len("trailer")), false); err == nil {
			r.trailer, _ = o.(Dict)
		}
	case xrefStmAt >= 0:
		if _, o, err := r.readObjectAt(xrefStmAt); err == nil {
			if s, ok := o.(*Stream); ok {
				r.trailer = s.Dict
			}
		}
	}
	if _, ok := r.trailer["Encrypt"]; ok {
		// Object streams of an encrypted file are read decrypted.
		if err := r.initSecurity(); err != nil {
			return err
		}
	}
	// Objects in object streams are added after the scan so that the
	// streams themselves are read through the rebuilt table.
	lastCatalog := Ref{}
	for _, h := range objStms {
		ref, _, err := r.readObjectAt(h)
		if err != nil {
			continue
		}
		os, err := r.loadObjStm(ref.Num)
		if err != nil {
			continue
		}
		for idx, num := range os.nums {
			if _, ok := tbl.get(num); !ok {
				set(num, xrefEntry{kind: entryCompressed, off: int64(ref.Num), idx: uint32(idx)})
			}
		}
		r.xref = tbl
		for _, p := range typePositions(os.data, 0, "Catalog") {
			for i := len(os.offs) - 1; i >= 0; i-- {
				if os.offs[i] <= p {
					lastCatalog = Ref{Num: os.nums[i]}
					break
				}
			}
		}
	}
	if r.trailer == nil || r.trailer["Root"] == nil {
		var candidates []Ref
		if catalogAt >= 0 {
			if ref, _, err := r.readObjectAt(catalogAt); err == nil {
				candidates = append(candidates, ref)
			}
		}
		if lastCatalog.Num != 0 {
			candidates = append(candidates, lastCatalog)
		}
		for _, ref := range candidates {
			d, err := r.Get(ref)
			if cat, ok := d.(Dict); err == nil && ok && cat["Type"] == Name("Catalog") {
				r.trailer = Dict{"Root": ref}
				break
			}
		}
		if r.trailer["Root"] == nil {
			return fmt.Errorf("%w: full scan found no trailer and no catalog", ErrDamaged)
		}
	}
	if cat, err := r.Catalog(); err != nil || cat == nil {
		return fmt.Errorf("%w: full scan: no readable catalog", ErrDamaged)
	}
	r.nextNum = 0
	if sz, ok := r.trailer["Size"].(Integer); ok && sz > 0 && int64(sz) <= int64(r.opts.MaxObjects) {
		r.nextNum = uint32(sz)
	}
	if m := r.xref.maxNum(); m >= int64(r.nextNum) {
		r.nextNum = uint32(m + 1)
	}
	r.startXRef = 0
	r.xrefStream = false
	r.repaired = true
	r.fullScanned = true
	return nil
}

// objHeaderAt parses the "num gen" before the "obj" keyword at k, and
// returns them with the offset of the header. The header must start the
// buffer or follow white space or a delimiter.
func objHeaderAt(b []byte, k int) (num uint32, gen uint16, start int, ok bool) {
	p := k - 1
	if p < 0 || !isSpace(b[p]) {
		return 0, 0, 0, false
	}
	for p >= 0 && isSpace(b[p]) {
		p--
	}
	ge := p + 1
	for p >= 0 && b[p] >= '0' && b[p] <= '9' {
		p--
	}
	g, ok1 := atoi(b[p+1 : ge])
	if !ok1 || p < 0 || !isSpace(b[p]) || g > 65535 {
		return 0, 0, 0, false
	}
	for p >= 0 && isSpace(b[p]) {
		p--
	}
	ne := p + 1
	for p >= 0 && b[p] >= '0' && b[p] <= '9' {
		p--
	}
	nv, ok2 := atoi(b[p+1 : ne])
	if !ok2 || nv > maxObjectNumber || p >= 0 && !isSpace(b[p]) && !isDelim(b[p]) {
		return 0, 0, 0, false
	}
	return uint32(nv), uint16(g), p + 1, true
}

// lastKeyword returns the position of the last kw in b standing alone
// between white space, or -1.
func lastKeyword(b []byte, kw string) int {
	for end := len(b); ; {
		i := bytes.LastIndex(b[:end], []byte(kw))
		if i < 0 {
			return -1
		}
		end = i
		if (i == 0 || isSpace(b[i-1])) && (i+len(kw) >= len(b) || !isRegular(b[i+len(kw)])) {
			return i
		}
	}
}

// typePositions returns the positions at or after from of "/Type /typ"
// (with optional white space) in b.
func typePositions(b []byte, from int, typ string) []int {
	var out []int
	val := []byte("/" + typ)
	for i := from; ; {
		k := bytes.Index(b[i:], val)
		if k < 0 {
			return out
		}
		k += i
		i = k + len(val)
		if i < len(b) && isRegular(b[i]) {
			continue
		}
		j := k - 1
		for j >= 0 && isSpace(b[j]) {
			j--
		}
		if j >= 4 && string(b[j-4:j+1]) == "/Type" {
			out = append(out, j-4)
		}
	}
}
