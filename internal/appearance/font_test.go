package appearance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseSubset reads back a font program written by subset.
func parseSubset(program []byte) (*trueType, error) { return parseTrueType(program) }

func TestWinAnsi(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r      rune
		want   byte
		wantOK bool
	}{
		{'A', 'A', true},
		{' ', ' ', true},
		{'é', 0xe9, true},
		{'Ñ', 0xd1, true},
		{'ß', 0xdf, true},
		{'ç', 0xe7, true},
		{'ã', 0xe3, true},
		{'€', 0x80, true},
		{'Š', 0x8a, true},
		{'Ÿ', 0x9f, true},
		{'—', 0x97, true},
		{'Ł', 0, false},
		{'ř', 0, false},
		{'\n', 0, false},
		{0x7f, 0, false},
		{0x81, 0, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.r), func(t *testing.T) {
			t.Parallel()
			got, ok := winAnsi(tt.r)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("winAnsi(%U) = %#x, %v, want %#x, %v", tt.r, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestHelveticaWidth(t *testing.T) {
	t.Parallel()
	// Values from Helvetica's AFM file.
	tests := []struct {
		r    rune
		want int
	}{
		{' ', 278}, {'A', 667}, {'W', 944}, {'a', 556}, {'i', 222}, {'m', 833},
		{'@', 1015}, {'\'', 191}, {'`', 333}, {'é', 556}, {'Ñ', 722}, {'ß', 611},
		{'€', 556}, {'…', 1000}, {'Æ', 1000}, {'ÿ', 500},
	}
	for _, tt := range tests {
		t.Run(string(tt.r), func(t *testing.T) {
			t.Parallel()
			c, ok := winAnsi(tt.r)
			if !ok {
				t.Fatalf("winAnsi(%U) not found", tt.r)
			}
			if got := helveticaWidth(c); got != tt.want {
				t.Errorf("helveticaWidth(%q) = %d, want %d", tt.r, got, tt.want)
			}
		})
	}
}

func TestSubset(t *testing.T) {
	t.Parallel()
	f, err := goRegular()
	if err != nil {
		t.Fatal(err)
	}
	var used []uint16
	for _, r := range "Łukasz Żółć" {
		g, _ := f.glyph(r)
		used = append(used, g)
	}
	program, newGID, err := f.subset(used)
	if err != nil {
		t.Fatalf("subset() error = %v", err)
	}
	if len(program) > 8<<10 {
		t.Errorf("subset is %d bytes, want under 8 KiB", len(program))
	}
	if got := checksum(program); got != 0xB1B0AFBA {
		t.Errorf("file checksum = %#x, want 0xB1B0AFBA", got)
	}
	sub, err := parseSubset(program)
	if err != nil {
		t.Fatalf("parse subset: %v", err)
	}
	if sub.numGlyphs != len(newGID) {
		t.Errorf("subset has %d glyphs, map has %d", sub.numGlyphs, len(newGID))
	}
	if newGID[0] != 0 {
		t.Errorf(".notdef moved to %d", newGID[0])
	}
	for old, g := range newGID {
		if !bytes.Equal(sub.glyphs[g], f.glyphs[old]) || sub.advance[g] != f.advance[old] || sub.lsb[g] != f.lsb[old] {
			t.Errorf("glyph %d (was %d) differs from the original", g, old)
		}
	}
	n := int(binary.BigEndian.Uint16(program[4:]))
	for i := range n {
		rec := program[12+16*i:]
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if string(rec[:4]) == "head" {
			continue // its checksum is taken before checkSumAdjustment is set
		}
		if got := checksum(program[off : off+length]); got != binary.BigEndian.Uint32(rec[4:]) || off%4 != 0 {
			t.Errorf("table %q: checksum %#x at offset %d, directory says %#x", rec[:4], got, off, binary.BigEndian.Uint32(rec[4:]))
		}
	}
}

// compositeFont returns a font with three glyphs: .notdef, a simple glyph,
// and a composite glyph made of the simple one twice (with word arguments
// and a scale on the second).
func compositeFont(t *testing.T) *trueType {
	t.Helper()
	simple := []byte{0, 1, 0, 0, 0, 0, 0, 10, 0, 10, 0, 0, 0, 0, 0, 0, 0x01, 0, 0}
	comp := []byte{0xff, 0xff, 0, 0, 0, 0, 0, 20, 0, 10}
	comp = append(comp, 0, moreComponents, 0, 1, 0, 0) // byte arguments
	comp = append(comp, 0, argsAreWords|haveScale, 0, 1, 0, 10, 0, 0, 0x40, 0)
	return &trueType{
		unitsPerEm: 1000, numGlyphs: 3,
		tables: map[string][]byte{
			"head": make([]byte, 54), "hhea": make([]byte, 36), "maxp": make([]byte, 6),
		},
		advance:    []uint16{500, 600, 700},
		lsb:        []int16{0, 0, 0},
		glyphs:     [][]byte{nil, simple, comp},
		composites: map[uint16]composite{},
	}
}

func TestSubsetComposite(t *testing.T) {
	t.Parallel()
	f := compositeFont(t)
	c, err := parseComposite(f.glyphs[2])
	if err != nil {
		t.Fatalf("parseComposite() error = %v", err)
	}
	if diff := cmp.Diff([]uint16{1, 1}, c.gids); diff != "" {
		t.Fatalf("components (-want +got):\n%s", diff)
	}
	f.composites[2] = c
	if got := f.closure([]uint16{2}); !cmp.Equal(got, []uint16{0, 1, 2}) {
		t.Errorf("closure(2) = %v, want [0 1 2]", got)
	}
	_, newGID, err := f.subset([]uint16{2})
	if err != nil {
		t.Fatalf("subset() error = %v", err)
	}
	if diff := cmp.Diff(map[uint16]uint16{0: 0, 1: 1, 2: 2}, newGID); diff != "" {
		t.Errorf("glyph map (-want +got):\n%s", diff)
	}
	if _, err := parseComposite(f.glyphs[2][:14]); !errors.Is(err, errFont) {
		t.Errorf("parseComposite(truncated) error = %v, want errFont", err)
	}
}

func TestParseTrueTypeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not TrueType", []byte("OTTO\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"no tables", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"directory past end", []byte{0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseTrueType(tt.data); !errors.Is(err, errFont) {
				t.Errorf("parseTrueType() error = %v, want errFont", err)
			}
		})
	}
}
