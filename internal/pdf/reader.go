package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Options bound the resources the reader may use on one document. A zero
// field takes its default.
type Options struct {
	// MaxObjectBytes bounds the bytes of one object (not counting stream
	// data) and the size of windows read from the file. Default 8 MiB.
	MaxObjectBytes int64
	// MaxDecodedStream bounds the decoded (and raw) size of one stream
	// read through StreamData. Default 256 MiB.
	MaxDecodedStream int64
	// MaxDecodeRatio bounds decoded/encoded size of a stream once its
	// output passes 1 MiB. Default 1000.
	MaxDecodeRatio int64
	// MaxDepth bounds the nesting of arrays and dictionaries, chains of
	// references, and the depth of the page tree. Default 64.
	MaxDepth int
	// MaxObjects bounds object numbers and cross-reference entries.
	// Default 8,388,607 (ISO 32000-2 Annex C).
	MaxObjects int
	// MaxXRefSections bounds the number of cross-reference sections
	// followed through /Prev. Default 4096.
	MaxXRefSections int
	// FullScanRepair lets Open rebuild damaged cross-reference data from
	// the "n g obj" headers of the whole file when no valid section can
	// be found (see Reader.RepairedFullScan). Off by default: the result
	// has no section a new /Prev could point at.
	FullScanRepair bool
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.MaxObjectBytes <= 0 {
		v.MaxObjectBytes = 8 << 20
	}
	if v.MaxDecodedStream <= 0 {
		v.MaxDecodedStream = 256 << 20
	}
	if v.MaxDecodeRatio <= 0 {
		v.MaxDecodeRatio = 1000
	}
	if v.MaxDepth <= 0 {
		v.MaxDepth = 64
	}
	if v.MaxObjects <= 0 || v.MaxObjects > maxObjectNumber+1 {
		v.MaxObjects = maxObjectNumber + 1
	}
	if v.MaxXRefSections <= 0 {
		v.MaxXRefSections = 4096
	}
	return v
}

// Reader reads a PDF document lazily from an io.ReaderAt: Open reads the
// header, the tail and the cross-reference sections; objects are parsed on
// demand and cached.
//
// A Reader is not safe for concurrent use: use it from one goroutine at a
// time. Objects it returns are shared with its cache and must not be
// modified; copy a dictionary before changing it.
type Reader struct {
	ra   io.ReaderAt
	size int64
	opts Options

	header      string // version from the header, e.g. "1.7"
	version     string
	trailer     Dict
	startXRef   int64
	xrefStream  bool
	nextNum     uint32
	repaired    bool
	fullScanned bool
	xref        xrefTable

	cache   map[uint32]cached
	objStms map[uint32]*objStm
	stmErrs map[uint32]error // object streams that failed to load, tried once
	loading map[uint32]bool  // objects being loaded, against reference loops
	depth   int              // nesting of get calls

	entryBudget int64  // cross-reference entries left to read (see spendEntry)
	scratch     []byte // reusable window buffer for parsing
	sec         *Security
}

type cached struct {
	gen uint16
	obj Object
}

// initialWindow is the first read size when parsing an object; it doubles
// as needed up to MaxObjectBytes.
const initialWindow = 2048

// headerWindow is how far from the start "%PDF-" is looked for, to tell
// junk before the header from a file that is not PDF at all.
const headerWindow = 1024

// Open reads the header, the startxref offset and every cross-reference
// section of the PDF in r (size bytes). opts may be nil for defaults.
//
// It fails with ErrNotPDF, ErrJunkBeforeHeader, ErrTruncated, ErrDamaged,
// ErrLimit or a *SyntaxError. When startxref does not point at a
// cross-reference section but the newest section can be found
// unambiguously, Open succeeds and Repaired reports true.
func Open(r io.ReaderAt, size int64, opts *Options) (*Reader, error) {
	rd := &Reader{
		ra:      r,
		size:    size,
		opts:    opts.withDefaults(),
		cache:   make(map[uint32]cached),
		objStms: make(map[uint32]*objStm),
		stmErrs: make(map[uint32]error),
		loading: make(map[uint32]bool),
	}
	rd.entryBudget = min(size/2+8192, 4*int64(rd.opts.MaxObjects))
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	start, err := rd.findStartXRef()
	if err != nil {
		return nil, err
	}
	err = rd.loadXRef(start)
	if errors.Is(err, errNotXRef) {
		if rerr := rd.repair(start); rerr != nil {
			err = fmt.Errorf("%w (startxref %d: %w)", rerr, start, err)
		} else {
			err = nil
		}
	}
	if err != nil && rd.opts.FullScanRepair && (errors.Is(err, ErrDamaged) || errors.Is(err, errNotXRef)) {
		err = rd.fullScan()
	}
	if err != nil {
		return nil, err
	}
	if _, ok := rd.trailer["Encrypt"]; ok {
		if err := rd.initSecurity(); err != nil {
			return nil, err
		}
		// Objects read while the cross-reference data was loaded were not
		// decrypted; read them again when needed.
		clear(rd.cache)
		clear(rd.objStms)
		clear(rd.stmErrs)
	}
	rd.version = rd.header
	if cat, err := rd.Catalog(); err == nil {
		if v, ok := cat["Version"].(Name); ok && validVersion(string(v)) && versionLess(rd.header, string(v)) {
			rd.version = string(v)
		}
	}
	return rd, nil
}

// readHeader checks that the file starts with "%PDF-x.y" (ISO 32000-2
// §7.5.2).
func (r *Reader) readHeader() error {
	buf := make([]byte, min(r.size, headerWindow))
	n, err := r.ra.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read header: %w", err)
	}
	buf = buf[:n]
	i := bytes.Index(buf, []byte("%PDF-"))
	switch {
	case i < 0:
		return ErrNotPDF
	case i > 0:
		return ErrJunkBeforeHeader
	}
	v := buf[5:]
	end := 0
	for end < len(v) && end < 4 && (v[end] == '.' || v[end] >= '0' && v[end] <= '9') {
		end++
	}
	r.header = string(v[:end])
	if !validVersion(r.header) {
		return fmt.Errorf("%w: bad version in header", ErrNotPDF)
	}
	return nil
}

// validVersion reports "M.m" version strings.
func validVersion(v string) bool {
	return len(v) == 3 && v[0] >= '1' && v[0] <= '9' && v[1] == '.' && v[2] >= '0' && v[2] <= '9'
}

func versionLess(a, b string) bool { return a < b }

// Size returns the size in bytes of the original file.
func (r *Reader) Size() int64 { return r.size }

// Version returns the PDF version: the catalog's /Version when it is later
// than the header's (ISO 32000-2 §7.7.2), else the header's, e.g. "1.7".
func (r *Reader) Version() string { return r.version }

// Trailer returns the newest trailer dictionary; for a cross-reference
// stream it is the stream dictionary.
func (r *Reader) Trailer() Dict { return r.trailer }

// StartXRef returns the offset of the newest cross-reference section: the
// value a new incremental update must give as /Prev. After a repair it is
// the recovered section's offset, not the damaged startxref value.
func (r *Reader) StartXRef() int64 { return r.startXRef }

// XRefStream reports whether the newest section is a cross-reference stream
// (false for a table, hybrid files included).
func (r *Reader) XRefStream() bool { return r.xrefStream }

// NextObjectNumber returns the first object number that no revision uses:
// the largest trailer /Size over all sections (and past every entry).
func (r *Reader) NextObjectNumber() uint32 { return r.nextNum }

// Repaired reports whether startxref was wrong and the newest
// cross-reference section had to be found by scanning.
func (r *Reader) Repaired() bool { return r.repaired }

// RepairedFullScan reports that the cross-reference data was rebuilt by
// scanning the whole file for object headers (only with
// Options.FullScanRepair). Then StartXRef returns 0: no valid section
// exists for a /Prev, so an update must carry a complete cross-reference
// section, or the caller should refuse the file.
func (r *Reader) RepairedFullScan() bool { return r.fullScanned }

// Security returns the document's security handler, or nil when the
// document is not encrypted.
func (r *Reader) Security() *Security { return r.sec }

// Catalog returns the document catalog, the trailer's /Root dictionary.
func (r *Reader) Catalog() (Dict, error) {
	o, err := r.Resolve(r.trailer["Root"])
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	d, ok := o.(Dict)
	if !ok {
		return nil, fmt.Errorf("%w: trailer /Root is not a dictionary", ErrDamaged)
	}
	return d, nil
}

// Resolve follows indirect references (at most MaxDepth of them) and
// returns the direct object; nil for null or a missing object.
func (r *Reader) Resolve(o Object) (Object, error) {
	for range r.opts.MaxDepth {
		ref, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		if o, err = r.Get(ref); err != nil {
			return nil, err
		}
	}
	if _, ok := o.(Ref); ok {
		return nil, fmt.Errorf("%w: chain of more than %d references", ErrLimit, r.opts.MaxDepth)
	}
	return o, nil
}

// Get returns the newest version of the object ref. A free, missing or
// out-of-range object, or one whose generation does not match, is null:
// Get returns nil and no error (ISO 32000-2 §7.3.10). Strings and streams
// of an encrypted document are decrypted when the empty user password
// opens it; when it needs a password, strings stay as stored and objects
// in object streams (like StreamData) fail with ErrEncrypted. The object
// is shared with the Reader's cache: do not modify it.
func (r *Reader) Get(ref Ref) (Object, error) {
	e, ok := r.xref.get(ref.Num)
	if !ok || e.kind == entryFree {
		return nil, nil
	}
	if e.kind == entryCompressed && ref.Gen != 0 || e.kind == entryInUse && e.gen != ref.Gen {
		return nil, nil
	}
	if c, ok := r.cache[ref.Num]; ok && c.gen == ref.Gen {
		return c.obj, nil
	}
	if r.loading[ref.Num] {
		return nil, fmt.Errorf("%w: object %d refers to itself while it is read", ErrDamaged, ref.Num)
	}
	if r.depth >= r.opts.MaxDepth {
		return nil, fmt.Errorf("%w: nested object loads at object %d", ErrLimit, ref.Num)
	}
	r.depth++
	r.loading[ref.Num] = true
	defer func() {
		r.depth--
		delete(r.loading, ref.Num)
	}()
	var obj Object
	var err error
	switch e.kind {
	case entryInUse:
		if e.off <= 0 || e.off >= r.size {
			return nil, nil
		}
		var got Ref
		got, obj, err = r.readObjectAt(e.off)
		if err != nil {
			return nil, fmt.Errorf("read object %d %d at offset %d: %w", ref.Num, ref.Gen, e.off, err)
		}
		if got != ref {
			return nil, fmt.Errorf("%w: xref entry of object %d %d points at object %d %d (offset %d)",
				ErrDamaged, ref.Num, ref.Gen, got.Num, got.Gen, e.off)
		}
		if err := r.decryptObject(ref, obj); err != nil {
			return nil, err
		}
	case entryCompressed:
		obj, err = r.compressedObject(ref.Num, uint32(e.off), e.idx)
		if err != nil {
			return nil, fmt.Errorf("read object %d in object stream %d: %w", ref.Num, e.off, err)
		}
	}
	r.cache[ref.Num] = cached{gen: ref.Gen, obj: obj}
	return obj, nil
}

// window reads up to n bytes at off into the scratch buffer.
func (r *Reader) window(off, n int64) ([]byte, error) {
	n = min(n, r.size-off)
	if n <= 0 {
		return nil, fmt.Errorf("%w: read at offset %d beyond end of file", ErrTruncated, off)
	}
	if int64(cap(r.scratch)) < n {
		r.scratch = make([]byte, n)
	}
	buf := r.scratch[:n]
	m, err := r.ra.ReadAt(buf, off)
	if m < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: short read at offset %d", ErrTruncated, off)
		}
		return nil, fmt.Errorf("read at offset %d: %w", off, err)
	}
	return buf, nil
}

// parseAt parses an indirect object (indirect true) or a direct object at
// off, reading a growing window. For a stream, streamStart is the offset
// of its first data byte, else -1.
func (r *Reader) parseAt(off int64, indirect bool) (ref Ref, obj Object, streamStart int64, err error) {
	win := int64(initialWindow)
	for {
		buf, err := r.window(off, win)
		if err != nil {
			return Ref{}, nil, -1, err
		}
		final := off+int64(len(buf)) >= r.size
		p := newParser(buf, off, final, r.opts.MaxDepth)
		spos := -1
		if indirect {
			ref, obj, spos, err = p.indirect()
		} else {
			obj, err = p.object()
		}
		if err == nil && spos >= 0 {
			spos, err = streamDataStart(buf, spos, final)
		}
		if err == errNeedMore {
			if win >= r.opts.MaxObjectBytes {
				return Ref{}, nil, -1, fmt.Errorf("%w: object at offset %d over %d bytes", ErrLimit, off, r.opts.MaxObjectBytes)
			}
			win = min(win*8, r.opts.MaxObjectBytes)
			continue
		}
		if err != nil {
			return Ref{}, nil, -1, err
		}
		if spos < 0 {
			return ref, obj, -1, nil
		}
		return ref, obj, off + int64(spos), nil
	}
}

// streamDataStart skips the end-of-line after the "stream" keyword (ISO
// 32000-2 §7.3.8.1: CRLF or LF; a lone CR and spaces before it are
// tolerated).
func streamDataStart(buf []byte, pos int, final bool) (int, error) {
	i := pos
	for i < len(buf) && buf[i] == ' ' {
		i++
	}
	if i+1 >= len(buf) && !final {
		return 0, errNeedMore
	}
	switch {
	case i < len(buf) && buf[i] == '\n':
		return i + 1, nil
	case i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n':
		return i + 2, nil
	case i < len(buf) && buf[i] == '\r':
		return i + 1, nil
	}
	return pos, nil
}

// readObjectAt reads the indirect object at off; a stream gets its data
// offset and a validated length.
func (r *Reader) readObjectAt(off int64) (Ref, Object, error) {
	ref, obj, start, err := r.parseAt(off, true)
	if err != nil {
		return Ref{}, nil, err
	}
	if start < 0 {
		return ref, obj, nil
	}
	d, ok := obj.(Dict)
	if !ok {
		return Ref{}, nil, &SyntaxError{Offset: off, Msg: "stream without a dictionary"}
	}
	s := &Stream{Dict: d, offset: start, ref: ref}
	if err := r.streamLength(s); err != nil {
		return Ref{}, nil, fmt.Errorf("stream %d %d: %w", ref.Num, ref.Gen, err)
	}
	return ref, s, nil
}

// streamLength sets s.length from /Length when "endstream" follows the
// data there, and otherwise by searching for "endstream".
func (r *Reader) streamLength(s *Stream) error {
	n := int64(-1)
	switch v := s.Dict["Length"].(type) {
	case Integer:
		n = int64(v)
	case Ref:
		// Resolving an indirect /Length needs the xref; while the xref
		// itself is read, it may not be known yet, and the search below
		// takes over.
		if o, err := r.Get(v); err == nil {
			if l, ok := o.(Integer); ok {
				n = int64(l)
			}
		}
	}
	if n >= 0 && n <= r.size-s.offset && r.endstreamAt(s.offset+n) {
		s.length = n
		return nil
	}
	return r.findEndstream(s)
}

var kwEndstream = []byte("endstream")

// endstreamAt reports whether "endstream" follows off after optional
// white space.
func (r *Reader) endstreamAt(off int64) bool {
	var b [32]byte
	n := min(int64(len(b)), r.size-off)
	if n <= 0 {
		return false
	}
	if m, _ := r.ra.ReadAt(b[:n], off); int64(m) < n {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(b[:n], "\x00\t\n\f\r "), kwEndstream)
}

// findEndstream searches forward for "endstream" from the stream's data
// and sets the length to the bytes before it, minus one end-of-line.
func (r *Reader) findEndstream(s *Stream) error {
	const chunk = 64 << 10
	limit := min(r.size, s.offset+r.opts.MaxDecodedStream)
	buf := make([]byte, chunk+len(kwEndstream))
	for off := s.offset; off < limit; off += chunk {
		n := min(int64(len(buf)), r.size-off)
		m, err := r.ra.ReadAt(buf[:n], off)
		if m < int(n) {
			return fmt.Errorf("read stream at %d: %w", off, err)
		}
		if i := bytes.Index(buf[:n], kwEndstream); i >= 0 {
			end := off + int64(i)
			if i >= 2 && buf[i-2] == '\r' && buf[i-1] == '\n' {
				end -= 2
			} else if i >= 1 && (buf[i-1] == '\n' || buf[i-1] == '\r') {
				end--
			}
			s.length = max(0, end-s.offset)
			return nil
		}
	}
	if limit < r.size {
		return fmt.Errorf("%w: stream without endstream within %d bytes", ErrLimit, r.opts.MaxDecodedStream)
	}
	return fmt.Errorf("%w: stream at offset %d has no endstream", ErrTruncated, s.offset)
}

// StreamData returns the decoded data of s: decrypted when the document is
// encrypted, then decoded through its filters (FlateDecode with PNG or
// TIFF predictors; any other filter gives ErrUnsupportedFilter). The raw
// and decoded sizes are bounded by MaxDecodedStream (ErrLimit).
func (r *Reader) StreamData(s *Stream) ([]byte, error) {
	raw, err := r.rawStream(s)
	if err != nil {
		return nil, err
	}
	names, parms, err := filterChain(r, s.Dict)
	if err != nil {
		return nil, err
	}
	lim := decodeLimits{maxBytes: r.opts.MaxDecodedStream, maxRatio: r.opts.MaxDecodeRatio}
	data := raw
	for i, name := range names {
		if data, err = decodeFilter(name, parms[i], data, lim); err != nil {
			return nil, fmt.Errorf("decode stream %d %d: %w", s.ref.Num, s.ref.Gen, err)
		}
	}
	return data, nil
}

// rawStream returns the encoded bytes of s, decrypted if need be.
func (r *Reader) rawStream(s *Stream) ([]byte, error) {
	if s.offset == 0 {
		return s.Raw, nil
	}
	if s.length > r.opts.MaxDecodedStream {
		return nil, fmt.Errorf("%w: stream of %d bytes", ErrLimit, s.length)
	}
	if s.offset+s.length > r.size {
		return nil, fmt.Errorf("%w: stream at %d cut short", ErrTruncated, s.offset)
	}
	raw := make([]byte, s.length)
	if m, err := r.ra.ReadAt(raw, s.offset); m < len(raw) {
		return nil, fmt.Errorf("read stream at %d: %w", s.offset, err)
	}
	if r.sec != nil && !s.plain {
		return r.sec.decryptStream(s, raw)
	}
	return raw, nil
}
