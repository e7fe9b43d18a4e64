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
// parses and its entries point at matching "n g obj" headers. Then the
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
