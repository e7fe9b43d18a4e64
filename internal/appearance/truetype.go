package appearance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// errFont reports a TrueType font that this package cannot use. The fonts it
// reads are compiled in, so the error means a programming mistake rather than
// bad input; it is still returned, not panicked on.
var errFont = errors.New("appearance: unusable TrueType font")

// trueType is a parsed TrueType font (the OpenType 'glyf' flavour): the
// tables this package needs to measure text and to write a subset. It is
// immutable after parseTrueType returns and safe for concurrent use.
type trueType struct {
	data   []byte
	tables map[string][]byte
	name   string // for the PDF font name; set by parseTextFont

	unitsPerEm int
	numGlyphs  int
	bbox       [4]int // xMin, yMin, xMax, yMax of the whole font, font units
	ascent     int    // hhea ascender, font units
	descent    int    // hhea descender (negative), font units
	capHeight  int    // OS/2 sCapHeight, or an estimate
	italic     float64

	advance []uint16        // advance width per glyph
	lsb     []int16         // left side bearing per glyph
	glyphs  [][]byte        // glyph descriptions, by glyph index; nil when empty
	yMax    []int16         // top of each glyph's bounding box
	yMin    []int16         // bottom of each glyph's bounding box
	cmap    map[rune]uint16 // Unicode code point to glyph index

	// composites maps each composite glyph to its components.
	composites map[uint16]composite
}

// composite lists the components of a composite glyph description: their
// glyph indices and the byte offsets where the description stores them.
type composite struct {
	offsets []int
	gids    []uint16
}

// Composite glyph flags (OpenType 'glyf' table, composite glyph description).
const (
	argsAreWords    = 0x0001
	haveScale       = 0x0008
	moreComponents  = 0x0020
	haveXYScale     = 0x0040
	haveTwoByTwo    = 0x0080
	maxCompositeRec = 8 // nesting depth accepted for composite glyphs
)

// parseTrueType reads the tables of a TrueType font file. A font without a
// cmap table (as a subset for a CIDFont) maps no characters.
func parseTrueType(data []byte) (*trueType, error) {
	if len(data) < 12 {
		return nil, fmt.Errorf("%w: short header", errFont)
	}
	if v := binary.BigEndian.Uint32(data); v != 0x00010000 && v != 0x74727565 {
		return nil, fmt.Errorf("%w: sfnt version %#x is not TrueType", errFont, v)
	}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if len(data) < 12+16*n {
		return nil, fmt.Errorf("%w: short table directory", errFont)
	}
	f := &trueType{data: data, tables: make(map[string][]byte, n)}
	for i := range n {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		off := int64(binary.BigEndian.Uint32(rec[8:]))
		length := int64(binary.BigEndian.Uint32(rec[12:]))
		if off+length > int64(len(data)) {
			return nil, fmt.Errorf("%w: table %q out of bounds", errFont, tag)
		}
		f.tables[tag] = data[off : off+length]
	}
	for _, tag := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf"} {
		if f.tables[tag] == nil {
			return nil, fmt.Errorf("%w: no %q table", errFont, tag)
		}
	}
	if err := f.parseMetrics(); err != nil {
		return nil, err
	}
	if err := f.parseGlyphs(); err != nil {
		return nil, err
	}
	f.cmap = make(map[rune]uint16)
	if f.tables["cmap"] != nil {
		if err := f.parseCmap(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// parseMetrics reads head, hhea, maxp, OS/2, post and hmtx.
func (f *trueType) parseMetrics() error {
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 {
		return fmt.Errorf("%w: short head, hhea or maxp", errFont)
	}
	f.unitsPerEm = int(binary.BigEndian.Uint16(head[18:]))
	if f.unitsPerEm < 16 {
		return fmt.Errorf("%w: unitsPerEm %d", errFont, f.unitsPerEm)
	}
	for i := range 4 {
		f.bbox[i] = int(int16(binary.BigEndian.Uint16(head[36+2*i:])))
	}
	f.ascent = int(int16(binary.BigEndian.Uint16(hhea[4:])))
	f.descent = int(int16(binary.BigEndian.Uint16(hhea[6:])))
	f.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	f.capHeight = f.ascent * 7 / 10
	if os2 := f.tables["OS/2"]; len(os2) >= 90 && binary.BigEndian.Uint16(os2) >= 2 {
		f.capHeight = int(int16(binary.BigEndian.Uint16(os2[88:])))
	}
	if post := f.tables["post"]; len(post) >= 8 {
		f.italic = float64(int32(binary.BigEndian.Uint32(post[4:]))) / 65536
	}

	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	hmtx := f.tables["hmtx"]
	if nh == 0 || nh > f.numGlyphs || len(hmtx) < 4*nh+2*(f.numGlyphs-nh) {
		return fmt.Errorf("%w: hmtx does not match numberOfHMetrics %d", errFont, nh)
	}
	f.advance = make([]uint16, f.numGlyphs)
	f.lsb = make([]int16, f.numGlyphs)
	for g := range f.numGlyphs {
		if g < nh {
			f.advance[g] = binary.BigEndian.Uint16(hmtx[4*g:])
			f.lsb[g] = int16(binary.BigEndian.Uint16(hmtx[4*g+2:]))
			continue
		}
		// Glyphs past numberOfHMetrics repeat the last advance width.
		f.advance[g] = f.advance[nh-1]
		f.lsb[g] = int16(binary.BigEndian.Uint16(hmtx[4*nh+2*(g-nh):]))
	}
	return nil
}

// parseGlyphs splits the glyf table with loca, and records each glyph's
// vertical extent and, for composite glyphs, their components.
func (f *trueType) parseGlyphs() error {
	head, loca, glyf := f.tables["head"], f.tables["loca"], f.tables["glyf"]
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(i int) (int, bool) {
		if long {
			if len(loca) < 4*(i+1) {
				return 0, false
			}
			return int(binary.BigEndian.Uint32(loca[4*i:])), true
		}
		if len(loca) < 2*(i+1) {
			return 0, false
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*i:])), true
	}
	f.glyphs = make([][]byte, f.numGlyphs)
	f.yMin = make([]int16, f.numGlyphs)
	f.yMax = make([]int16, f.numGlyphs)
	f.composites = make(map[uint16]composite)
	for g := range f.numGlyphs {
		start, ok1 := offset(g)
		end, ok2 := offset(g + 1)
		if !ok1 || !ok2 || start > end || end > len(glyf) {
			return fmt.Errorf("%w: loca entry %d out of bounds", errFont, g)
		}
		if start == end {
			continue
		}
		desc := glyf[start:end]
		if len(desc) < 10 {
			return fmt.Errorf("%w: glyph %d too short", errFont, g)
		}
		f.glyphs[g] = desc
		f.yMin[g] = int16(binary.BigEndian.Uint16(desc[4:]))
		f.yMax[g] = int16(binary.BigEndian.Uint16(desc[8:]))
		if int16(binary.BigEndian.Uint16(desc)) >= 0 {
			continue
		}
		c, err := parseComposite(desc)
		if err != nil {
			return fmt.Errorf("glyph %d: %w", g, err)
		}
		f.composites[uint16(g)] = c
	}
	return nil
}

// parseComposite lists the components of a composite glyph description.
func parseComposite(desc []byte) (composite, error) {
	var c composite
	p := 10
	for {
		if p+4 > len(desc) {
			return c, fmt.Errorf("%w: truncated composite glyph", errFont)
		}
		flags := binary.BigEndian.Uint16(desc[p:])
		c.offsets = append(c.offsets, p+2)
		c.gids = append(c.gids, binary.BigEndian.Uint16(desc[p+2:]))
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			break
		}
	}
	if p > len(desc) {
		return c, fmt.Errorf("%w: truncated composite glyph", errFont)
	}
	return c, nil
}

// parseCmap reads the Unicode mapping from a (3,10) format 12 subtable, or
// else a (3,1) or (0,x) format 4 subtable.
func (f *trueType) parseCmap() error {
	cmap := f.tables["cmap"]
	if len(cmap) < 4 {
		return fmt.Errorf("%w: short cmap", errFont)
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	var best []byte
	bestRank := 0
	for i := range n {
		rec := 4 + 8*i
		if rec+8 > len(cmap) {
			return fmt.Errorf("%w: short cmap directory", errFont)
		}
		platform := binary.BigEndian.Uint16(cmap[rec:])
		encoding := binary.BigEndian.Uint16(cmap[rec+2:])
		off := int(binary.BigEndian.Uint32(cmap[rec+4:]))
		if off+4 > len(cmap) {
			continue
		}
		sub := cmap[off:]
		format := binary.BigEndian.Uint16(sub)
		rank := 0
		switch {
		case format == 12 && (platform == 3 && encoding == 10 || platform == 0):
			rank = 3
		case format == 4 && platform == 3 && encoding == 1:
			rank = 2
		case format == 4 && platform == 0:
			rank = 1
		}
		if rank > bestRank {
			best, bestRank = sub, rank
		}
	}
	switch bestRank {
	case 0:
		return fmt.Errorf("%w: no Unicode cmap subtable", errFont)
	case 3:
		return f.parseCmap12(best)
	default:
		return f.parseCmap4(best)
	}
}

// parseCmap4 reads a segment mapping to delta values subtable.
func (f *trueType) parseCmap4(sub []byte) error {
	if len(sub) < 14 {
		return fmt.Errorf("%w: short cmap format 4", errFont)
	}
	segs := int(binary.BigEndian.Uint16(sub[6:])) / 2
	if len(sub) < 16+8*segs {
		return fmt.Errorf("%w: short cmap format 4", errFont)
	}
	ends, starts := sub[14:], sub[16+2*segs:]
	deltas, ranges := sub[16+4*segs:], sub[16+6*segs:]
	for s := range segs {
		end := int(binary.BigEndian.Uint16(ends[2*s:]))
		start := int(binary.BigEndian.Uint16(starts[2*s:]))
		delta := int(binary.BigEndian.Uint16(deltas[2*s:]))
		ro := int(binary.BigEndian.Uint16(ranges[2*s:]))
		for c := start; c <= end && c != 0xffff; c++ {
			var g int
			if ro == 0 {
				g = (c + delta) & 0xffff
			} else {
				at := 16 + 6*segs + 2*s + ro + 2*(c-start)
				if at+2 > len(sub) {
					return fmt.Errorf("%w: cmap format 4 glyph index out of bounds", errFont)
				}
				g = int(binary.BigEndian.Uint16(sub[at:]))
				if g != 0 {
					g = (g + delta) & 0xffff
				}
			}
			if g != 0 && g < f.numGlyphs {
				f.cmap[rune(c)] = uint16(g)
			}
		}
	}
	return nil
}

// parseCmap12 reads a segmented coverage subtable.
func (f *trueType) parseCmap12(sub []byte) error {
	if len(sub) < 16 {
		return fmt.Errorf("%w: short cmap format 12", errFont)
	}
	n := int(binary.BigEndian.Uint32(sub[12:]))
	if n > (len(sub)-16)/12 {
		return fmt.Errorf("%w: short cmap format 12", errFont)
	}
	for i := range n {
		grp := sub[16+12*i:]
		start := binary.BigEndian.Uint32(grp)
		end := binary.BigEndian.Uint32(grp[4:])
		g := binary.BigEndian.Uint32(grp[8:])
		if end < start || end > 0x10ffff || end-start > 0xffff {
			return fmt.Errorf("%w: bad cmap format 12 group", errFont)
		}
		for c := start; c <= end; c++ {
			if gid := g + (c - start); gid != 0 && gid < uint32(f.numGlyphs) {
				f.cmap[rune(c)] = uint16(gid)
			}
		}
	}
	return nil
}

// glyph returns the glyph index for r, and false when the font lacks it.
func (f *trueType) glyph(r rune) (uint16, bool) {
	g, ok := f.cmap[r]
	return g, ok
}

// width returns the advance width of glyph g in thousandths of an em.
func (f *trueType) width(g uint16) float64 {
	return float64(f.advance[g]) * 1000 / float64(f.unitsPerEm)
}

// units converts font units to thousandths of an em.
func (f *trueType) units(v int) float64 {
	return float64(v) * 1000 / float64(f.unitsPerEm)
}

// closure returns the glyphs in used plus glyph 0 and every component of a
// composite glyph among them, in ascending order.
func (f *trueType) closure(used []uint16) []uint16 {
	seen := map[uint16]bool{0: true}
	var visit func(g uint16, depth int)
	visit = func(g uint16, depth int) {
		if depth > maxCompositeRec {
			return
		}
		seen[g] = true
		for _, c := range f.composites[g].gids {
			if int(c) < f.numGlyphs && !seen[c] {
				visit(c, depth+1)
			}
		}
	}
	for _, g := range used {
		if int(g) < f.numGlyphs {
			visit(g, 0)
		}
	}
	out := make([]uint16, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
