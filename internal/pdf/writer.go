package pdf

import (
	"fmt"
	"slices"
	"strconv"
)

// Update collects the new and changed objects of one incremental update
// (ISO 32000-2 §7.5.6) and writes them, with a cross-reference section and
// trailer, as bytes to append after the original file. The original bytes
// are never changed.
//
// The cross-reference section takes the form of the file's newest one: a
// table after a table (also for hybrid files, without copying a stale
// /XRefStm), a stream after a stream. Its /Prev is the newest section's
// offset as found by the Reader, which after a repair is the real one.
//
// An Update is not safe for concurrent use.
type Update struct {
	r    *Reader
	next uint32
	objs map[Ref]Object
	// encrypter encrypts the strings and streams of written objects when
	// the document is encrypted.
	encrypter objectEncrypter
}

// objectEncrypter encrypts the strings and streams of one object of an
// encrypted document (ISO 32000-2 §7.6.2).
type objectEncrypter interface {
	EncryptString(ref Ref, plain []byte) ([]byte, error)
	EncryptStream(ref Ref, plain []byte) ([]byte, error)
}

// NewUpdate starts an incremental update of the document r reads. New
// objects are numbered from r.NextObjectNumber().
func NewUpdate(r *Reader) *Update {
	u := &Update{r: r, next: r.NextObjectNumber(), objs: make(map[Ref]Object)}
	if u.next == 0 {
		u.next = 1
	}
	if sec := r.Security(); sec != nil {
		u.encrypter = sec
	}
	return u
}

// Add adds o as a new indirect object and returns its reference.
func (u *Update) Add(o Object) Ref {
	ref := Ref{Num: u.next}
	u.next++
	u.objs[ref] = o
	return ref
}

// Set writes o as the new version of the existing object ref.
func (u *Update) Set(ref Ref, o Object) {
	u.objs[ref] = o
}

// Bytes returns the update as it is to be appended at the end of the
// original file, and sets the Offset of every Placeholder and
// ByteRangePlaceholder it contains to its absolute position in the result.
func (u *Update) Bytes() ([]byte, error) {
	base := u.r.Size()
	w := objectWriter{base: base, buf: make([]byte, 0, 4096)}
	// A line end first: the original may end right after "%%EOF".
	w.buf = append(w.buf, '\n')

	refs := make([]Ref, 0, len(u.objs)+1)
	for ref := range u.objs {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b Ref) int { return int(a.Num) - int(b.Num) })

	offsets := make(map[uint32]xrefOut, len(refs)+1)
	for _, ref := range refs {
		offsets[ref.Num] = xrefOut{offset: base + int64(len(w.buf)), gen: ref.Gen}
		w.buf = strconv.AppendUint(w.buf, uint64(ref.Num), 10)
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendUint(w.buf, uint64(ref.Gen), 10)
		w.buf = append(w.buf, " obj\n"...)
		w.crypt = u.cryptFor(ref)
		w.object(u.objs[ref])
		w.crypt = nil
		if w.err != nil {
			return nil, fmt.Errorf("pdf: encrypt object %d: %w", ref.Num, w.err)
		}
		w.buf = append(w.buf, "\nendobj\n"...)
	}

	size := max(u.next, u.r.NextObjectNumber())
	old := u.r.Trailer()
	trailer := Dict{}
	for _, k := range []Name{"Root", "Info", "ID", "Encrypt"} {
		if v, ok := old[k]; ok && v != nil {
			trailer[k] = v
		}
	}
	trailer["Prev"] = Integer(u.r.StartXRef())

	xrefStart := base + int64(len(w.buf))
	if u.r.XRefStream() {
		// The cross-reference stream lists itself too (ISO 32000-2 §7.5.8).
		self := Ref{Num: size}
		size++
		offsets[self.Num] = xrefOut{offset: xrefStart}
		trailer["Size"] = Integer(size)
		w.buf = u.appendXRefStream(w.buf, self, offsets, trailer)
	} else {
		trailer["Size"] = Integer(size)
		w.buf = appendXRefTable(w.buf, offsets)
		w.buf = append(w.buf, "trailer\n"...)
		w.object(trailer)
		w.buf = append(w.buf, '\n')
	}
	w.buf = append(w.buf, "startxref\n"...)
	w.buf = strconv.AppendInt(w.buf, xrefStart, 10)
	w.buf = append(w.buf, "\n%%EOF\n"...)
	return w.buf, nil
}

type xrefOut struct {
	offset int64
	gen    uint16
}

func (u *Update) cryptFor(ref Ref) func([]byte, bool) ([]byte, error) {
	if u.encrypter == nil {
		return nil
	}
	return func(b []byte, stream bool) ([]byte, error) {
		if stream {
			return u.encrypter.EncryptStream(ref, b)
		}
		return u.encrypter.EncryptString(ref, b)
	}
}

// xrefRuns groups sorted object numbers into runs of consecutive numbers, as
// xref subsections and /Index pairs are.
func xrefRuns(offsets map[uint32]xrefOut) [][2]uint32 {
	nums := make([]uint32, 0, len(offsets))
	for n := range offsets {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	var out [][2]uint32
	for _, n := range nums {
		if k := len(out); k > 0 && out[k-1][0]+out[k-1][1] == n {
			out[k-1][1]++
			continue
		}
		out = append(out, [2]uint32{n, 1})
	}
	return out
}

// appendXRefTable writes a classic cross-reference section with 20-byte
// entries (ISO 32000-2 §7.5.4).
func appendXRefTable(dst []byte, offsets map[uint32]xrefOut) []byte {
	dst = append(dst, "xref\n"...)
	for _, r := range xrefRuns(offsets) {
		dst = strconv.AppendUint(dst, uint64(r[0]), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(r[1]), 10)
		dst = append(dst, '\n')
		for n := r[0]; n < r[0]+r[1]; n++ {
			e := offsets[n]
			dst = fmt.Appendf(dst, "%010d %05d n\r\n", e.offset, e.gen)
		}
	}
	return dst
}

// appendXRefStream writes a cross-reference stream object (ISO 32000-2
// §7.5.8) with type-1 entries for every object of the update. Cross-reference
// streams are never encrypted.
func (u *Update) appendXRefStream(dst []byte, self Ref, offsets map[uint32]xrefOut, trailer Dict) []byte {
	var maxOff int64
	for _, e := range offsets {
		maxOff = max(maxOff, e.offset)
	}
	ow := 1
	for v := maxOff >> 8; v > 0; v >>= 8 {
		ow++
	}
	ow = max(ow, 4)
	rs := xrefRuns(offsets)
	index := make(Array, 0, 2*len(rs))
	var data []byte
	for _, r := range rs {
		index = append(index, Integer(r[0]), Integer(r[1]))
		for n := r[0]; n < r[0]+r[1]; n++ {
			e := offsets[n]
			data = append(data, 1)
			for i := ow - 1; i >= 0; i-- {
				data = append(data, byte(e.offset>>(8*i)))
			}
			data = append(data, byte(e.gen>>8), byte(e.gen))
		}
	}
	d := Dict{"Type": Name("XRef"), "W": Array{Integer(1), Integer(ow), Integer(2)}, "Index": index}
	for k, v := range trailer {
		d[k] = v
	}
	w := objectWriter{buf: dst}
	w.buf = strconv.AppendUint(w.buf, uint64(self.Num), 10)
	w.buf = append(w.buf, " 0 obj\n"...)
	w.object(&Stream{Dict: d, Raw: data})
	w.buf = append(w.buf, "\nendobj\n"...)
	return w.buf
}
