package appearance

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// subset writes a TrueType font program holding glyph 0, the glyphs in
// used, and the components of composite glyphs among them, renumbered in
// ascending order of their old index. It returns the program and the map
// from old to new glyph index.
//
// The program has the tables ISO 32000-2 §9.9 requires of a TrueType font
// used by a CIDFontType2 font (glyf, head, hhea, hmtx, loca, maxp, cvt,
// fpgm, prep), plus OS/2 and a version 3 post table, which some renderers
// look for. A CIDFont selects glyphs by index, so cmap is left out.
func (f *trueType) subset(used []uint16) ([]byte, map[uint16]uint16, error) {
	order := f.closure(used)
	newGID := make(map[uint16]uint16, len(order))
	for i, g := range order {
		newGID[g] = uint16(i)
	}

	var glyf []byte
	loca := make([]byte, 4*(len(order)+1))
	hmtx := make([]byte, 4*len(order))
	for i, g := range order {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		binary.BigEndian.PutUint16(hmtx[4*i:], f.advance[g])
		binary.BigEndian.PutUint16(hmtx[4*i+2:], uint16(f.lsb[g]))
		start := len(glyf)
		glyf = append(glyf, f.glyphs[g]...)
		if c, ok := f.composites[g]; ok {
			for k, off := range c.offsets {
				ng, ok := newGID[c.gids[k]]
				if !ok {
					return nil, nil, fmt.Errorf("%w: glyph %d nests components too deeply", errFont, g)
				}
				binary.BigEndian.PutUint16(glyf[start+off:], ng)
			}
		}
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	binary.BigEndian.PutUint32(loca[4*len(order):], uint32(len(glyf)))

	head := append([]byte(nil), f.tables["head"]...)
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1)
	hhea := append([]byte(nil), f.tables["hhea"]...)
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := append([]byte(nil), f.tables["maxp"]...)
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))

	tables := map[string][]byte{
		"glyf": glyf, "loca": loca, "hmtx": hmtx,
		"head": head, "hhea": hhea, "maxp": maxp,
	}
	if post := f.tables["post"]; len(post) >= 32 {
		p := append([]byte(nil), post[:32]...)
		binary.BigEndian.PutUint32(p, 0x00030000) // no glyph names
		tables["post"] = p
	}
	for _, tag := range []string{"OS/2", "cvt ", "fpgm", "prep"} {
		if t := f.tables[tag]; t != nil {
			tables[tag] = t
		}
	}

	out := writeSFNT(tables)
	// ISO/IEC 14496-22 §5.2.2 ('head'): checkSumAdjustment makes the
	// checksum of the whole file 0xB1B0AFBA.
	headAt := tableOffset(out, "head")
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out, newGID, nil
}

// writeSFNT lays out a font file with the given tables, sorted by tag,
// each starting on a four-byte boundary.
func writeSFNT(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	searchRange := 16 << entrySelector

	size := 12 + 16*n
	for _, tag := range tags {
		size += pad4(len(tables[tag]))
	}
	out := make([]byte, 12+16*n, size)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(searchRange))
	binary.BigEndian.PutUint16(out[8:], uint16(entrySelector))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-searchRange))
	for i, tag := range tags {
		t := tables[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(t))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t)))
		out = append(out, t...)
		out = append(out, make([]byte, pad4(len(t))-len(t))...)
	}
	return out
}

// tableOffset returns where the table tag starts in a font file written by
// writeSFNT.
func tableOffset(font []byte, tag string) int {
	n := int(binary.BigEndian.Uint16(font[4:]))
	for i := range n {
		rec := font[12+16*i:]
		if string(rec[:4]) == tag {
			return int(binary.BigEndian.Uint32(rec[8:]))
		}
	}
	return -1
}

// checksum is the TrueType table checksum: the sum of the data as
// big-endian 32-bit words, zero-padded to a multiple of four bytes.
func checksum(b []byte) uint32 {
	var sum uint32
	for len(b) >= 4 {
		sum += binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) > 0 {
		var last [4]byte
		copy(last[:], b)
		sum += binary.BigEndian.Uint32(last[:])
	}
	return sum
}

// pad4 rounds n up to a multiple of four.
func pad4(n int) int { return (n + 3) &^ 3 }
