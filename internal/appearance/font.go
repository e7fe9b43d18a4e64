package appearance

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"

	"golang.org/x/image/font/gofont/goregular"

	"sello/internal/pdf"
)

// fontName is the name of the appearance's font in its resources.
const fontName = pdf.Name("F1")

// goRegular parses the embedded font once, on first use; the result is
// immutable and shared by all calls.
var goRegular = sync.OnceValues(func() (*trueType, error) {
	f, err := parseTextFont(goregular.TTF)
	if err == nil {
		f.name = "GoRegular"
	}
	return f, err
})

// parseTextFont parses a TrueType font for the appearance's text: it must
// map Unicode characters and have glyph outlines to subset.
func parseTextFont(data []byte) (*trueType, error) {
	f, err := parseTrueType(data)
	if err != nil {
		return nil, err
	}
	if len(f.cmap) == 0 {
		return nil, fmt.Errorf("%w: no Unicode mapping", errFont)
	}
	if _, ok := f.glyph('A'); !ok {
		return nil, fmt.Errorf("%w: no glyph for Latin letters", errFont)
	}
	if _, _, err := f.subset([]uint16{0}); err != nil {
		return nil, err
	}
	f.name = postScriptName(f.tables["name"])
	return f, nil
}

// postScriptName returns the font's PostScript name (name ID 6, Windows
// Unicode platform) with only the characters a PDF font name may safely
// carry, or "Text" when the font has none.
func postScriptName(table []byte) string {
	if len(table) >= 6 {
		count := int(binary.BigEndian.Uint16(table[2:]))
		strs := int(binary.BigEndian.Uint16(table[4:]))
		for i := range count {
			rec := 6 + 12*i
			if rec+12 > len(table) {
				break
			}
			r := table[rec : rec+12]
			platform, nameID := binary.BigEndian.Uint16(r), binary.BigEndian.Uint16(r[6:])
			length, off := int(binary.BigEndian.Uint16(r[8:])), int(binary.BigEndian.Uint16(r[10:]))
			if platform != 3 || nameID != 6 || strs+off+length > len(table) {
				continue
			}
			raw := table[strs+off : strs+off+length]
			var b strings.Builder
			for j := 0; j+1 < len(raw) && b.Len() < 63; j += 2 {
				if c := rune(binary.BigEndian.Uint16(raw[j:])); c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-') {
					b.WriteRune(c)
				}
			}
			if b.Len() > 0 {
				return b.String()
			}
		}
	}
	return "Text"
}

// face is a font as the layout and the content stream see it.
type face interface {
	// width returns the advance of r in thousandths of the font size.
	width(r rune) float64
	// extent returns how far the drawn glyphs reach above and below the
	// baseline (the second value is negative), in thousandths of the font
	// size.
	extent() (ascent, descent float64)
	// show appends s as a string operand for Tj.
	show(b []byte, s []rune) []byte
	// add adds the font's objects to a, compressing streams with z, and
	// returns the font dictionary's reference. It adds nothing when it
	// fails.
	add(a Adder, z deflater) (pdf.Ref, error)
}

// chooseFace returns the font for lines and the lines as that font will
// show them: standard Helvetica when WinAnsiEncoding has every character,
// otherwise a subset of text (Go Regular when nil), with characters it
// lacks replaced by "?" (combining marks are dropped instead).
func chooseFace(text *trueType, lines []string) (face, []string, error) {
	h := &helvetica{first: 0xff, last: 0x20}
	for _, s := range lines {
		for _, r := range s {
			c, ok := winAnsi(r)
			if !ok {
				return embed(text, lines)
			}
			h.first, h.last = min(h.first, c), max(h.last, c)
		}
	}
	return h, lines, nil
}

// helvetica is the standard Type 1 font Helvetica with WinAnsiEncoding
// (ISO 32000-2 §9.6.2.2). It is not embedded; its widths are given so that
// every renderer spaces the text as the layout measured it.
type helvetica struct {
	first, last byte // range of codes used
}

func (h *helvetica) width(r rune) float64 {
	c, _ := winAnsi(r)
	return float64(helveticaWidth(c))
}

func (h *helvetica) extent() (float64, float64) {
	return helveticaAscent, helveticaDescent
}

// show writes a literal string (ISO 32000-2 §7.3.4.2), escaping the
// delimiters and writing bytes outside printable ASCII in octal so the
// content stream stays plain text.
func (h *helvetica) show(b []byte, s []rune) []byte {
	b = append(b, '(')
	for _, r := range s {
		c, _ := winAnsi(r)
		switch {
		case c == '(' || c == ')' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}

func (h *helvetica) add(a Adder, _ deflater) (pdf.Ref, error) {
	first, last := h.first, h.last
	if first > last {
		first, last = 0x20, 0x20
	}
	widths := make(pdf.Array, 0, int(last-first)+1)
	for c := int(first); c <= int(last); c++ {
		widths = append(widths, pdf.Integer(helveticaWidth(byte(c))))
	}
	return a.Add(pdf.Dict{
		"Type":      pdf.Name("Font"),
		"Subtype":   pdf.Name("Type1"),
		"BaseFont":  pdf.Name("Helvetica"),
		"Encoding":  pdf.Name("WinAnsiEncoding"),
		"FirstChar": pdf.Integer(first),
		"LastChar":  pdf.Integer(last),
		"Widths":    widths,
	}), nil
}

// embedded is a subset of a TrueType font used as a Type0 font with the
// Identity-H encoding over a CIDFontType2 font whose CIDs are the subset's
// glyph indices (ISO 32000-2 §9.7).
type embedded struct {
	font    *trueType
	cid     map[rune]uint16 // character to CID (glyph index in the subset)
	widths  []int           // advance per CID, thousandths of an em
	program []byte          // the subset font program
	tag     string          // subset tag, ISO 32000-2 §9.9.2
	ascent  float64
	descent float64
}

// embed builds the embedded face for lines from f (Go Regular when nil),
// replacing the characters the font lacks.
func embed(f *trueType, lines []string) (face, []string, error) {
	if f == nil {
		var err error
		if f, err = goRegular(); err != nil {
			return nil, nil, err
		}
	}
	out := make([]string, len(lines))
	var used []uint16
	var runes []rune
	seen := make(map[rune]bool)
	for i, s := range lines {
		var b strings.Builder
		for _, r := range s {
			if _, ok := f.glyph(r); !ok {
				if unicode.Is(unicode.Mn, r) {
					continue
				}
				r = '?'
			}
			b.WriteRune(r)
			if !seen[r] {
				seen[r] = true
				g, _ := f.glyph(r)
				used = append(used, g)
				runes = append(runes, r)
			}
		}
		out[i] = b.String()
	}
	program, newGID, err := f.subset(used)
	if err != nil {
		return nil, nil, err
	}
	e := &embedded{
		font:    f,
		cid:     make(map[rune]uint16, len(runes)),
		widths:  make([]int, len(newGID)),
		program: program,
		ascent:  math.Inf(-1),
		descent: math.Inf(1),
	}
	for old, cid := range newGID {
		e.widths[cid] = int(math.Round(f.width(old)))
	}
	for _, r := range runes {
		g, _ := f.glyph(r)
		e.cid[r] = newGID[g]
		if f.glyphs[g] != nil {
			e.ascent = max(e.ascent, f.units(int(f.yMax[g])))
			e.descent = min(e.descent, f.units(int(f.yMin[g])))
		}
	}
	// Space-only text has no outline; fall back on the font's own metrics.
	e.ascent = max(e.ascent, f.units(f.ascent))
	e.descent = min(e.descent, f.units(f.descent), 0)
	e.tag = subsetTag(newGID)
	return e, out, nil
}

func (e *embedded) width(r rune) float64 {
	return float64(e.widths[e.cid[r]])
}

func (e *embedded) extent() (float64, float64) {
	return e.ascent, e.descent
}

// show writes a hexadecimal string of two-byte CIDs, as Identity-H reads
// them (ISO 32000-2 §9.7.5.2).
func (e *embedded) show(b []byte, s []rune) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '<')
	for _, r := range s {
		c := e.cid[r]
		b = append(b, hex[c>>12], hex[c>>8&15], hex[c>>4&15], hex[c&15])
	}
	return append(b, '>')
}

func (e *embedded) add(a Adder, z deflater) (pdf.Ref, error) {
	program, err := z.deflate(e.program)
	if err != nil {
		return pdf.Ref{}, err
	}
	toUnicode, err := z.deflate(e.toUnicode())
	if err != nil {
		return pdf.Ref{}, err
	}
	f := e.font
	base := pdf.Name(e.tag + "+" + f.name)
	file := a.Add(&pdf.Stream{
		Dict: pdf.Dict{
			"Length1": pdf.Integer(len(e.program)),
			"Filter":  pdf.Name("FlateDecode"),
		},
		Raw: program,
	})
	descriptor := a.Add(pdf.Dict{
		"Type":     pdf.Name("FontDescriptor"),
		"FontName": base,
		// Symbolic: the subset may hold glyphs outside the standard Latin
		// character set (ISO 32000-2 §9.8.2).
		"Flags": pdf.Integer(4),
		"FontBBox": pdf.Array{
			pdf.Integer(math.Round(f.units(f.bbox[0]))), pdf.Integer(math.Round(f.units(f.bbox[1]))),
			pdf.Integer(math.Round(f.units(f.bbox[2]))), pdf.Integer(math.Round(f.units(f.bbox[3]))),
		},
		"ItalicAngle": number(f.italic),
		"Ascent":      pdf.Integer(math.Round(f.units(f.ascent))),
		"Descent":     pdf.Integer(math.Round(f.units(f.descent))),
		"CapHeight":   pdf.Integer(math.Round(f.units(f.capHeight))),
		"StemV":       pdf.Integer(80),
		"FontFile2":   file,
	})
	widths := make(pdf.Array, len(e.widths))
	for i, w := range e.widths {
		widths[i] = pdf.Integer(w)
	}
	cidFont := a.Add(pdf.Dict{
		"Type":     pdf.Name("Font"),
		"Subtype":  pdf.Name("CIDFontType2"),
		"BaseFont": base,
		"CIDSystemInfo": pdf.Dict{
			"Registry":   pdf.String("Adobe"),
			"Ordering":   pdf.String("Identity"),
			"Supplement": pdf.Integer(0),
		},
		"FontDescriptor": descriptor,
		"W":              pdf.Array{pdf.Integer(0), widths},
		"CIDToGIDMap":    pdf.Name("Identity"),
	})
	cmap := a.Add(&pdf.Stream{
		Dict: pdf.Dict{"Filter": pdf.Name("FlateDecode")},
		Raw:  toUnicode,
	})
	return a.Add(pdf.Dict{
		"Type":            pdf.Name("Font"),
		"Subtype":         pdf.Name("Type0"),
		"BaseFont":        base,
		"Encoding":        pdf.Name("Identity-H"),
		"DescendantFonts": pdf.Array{cidFont},
		"ToUnicode":       cmap,
	}), nil
}

// toUnicode returns a ToUnicode CMap (ISO 32000-2 §9.10.3) mapping each CID
// shown to its character, so that text extraction and search work.
func (e *embedded) toUnicode() []byte {
	type pair struct {
		cid uint16
		r   rune
	}
	pairs := make([]pair, 0, len(e.cid))
	for r, c := range e.cid {
		pairs = append(pairs, pair{c, r})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].cid != pairs[j].cid {
			return pairs[i].cid < pairs[j].cid
		}
		return pairs[i].r < pairs[j].r
	})
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n" +
		"12 dict begin\n" +
		"begincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n" +
		"/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	// A glyph shared by two characters maps to the first of them; each
	// bfchar block holds at most 100 entries.
	var block []string
	last := -1
	flush := func() {
		if len(block) == 0 {
			return
		}
		fmt.Fprintf(&b, "%d beginbfchar\n%sendbfchar\n", len(block), strings.Join(block, ""))
		block = block[:0]
	}
	for _, p := range pairs {
		if int(p.cid) == last {
			continue
		}
		last = int(p.cid)
		var dst strings.Builder
		for _, u := range utf16.Encode([]rune{p.r}) {
			fmt.Fprintf(&dst, "%04X", u)
		}
		block = append(block, fmt.Sprintf("<%04X> <%s>\n", p.cid, dst.String()))
		if len(block) == 100 {
			flush()
		}
	}
	flush()
	b.WriteString("endcmap\n" +
		"CMapName currentdict /CMap defineresource pop\n" +
		"end\nend\n")
	return []byte(b.String())
}

// subsetTag derives the six-letter subset tag from the glyphs kept, so the
// same text gives the same font name.
func subsetTag(newGID map[uint16]uint16) string {
	gids := make([]uint16, 0, len(newGID))
	for g := range newGID {
		gids = append(gids, g)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	h := fnv.New64a()
	for _, g := range gids {
		h.Write([]byte{byte(g >> 8), byte(g)})
	}
	sum := h.Sum64()
	var tag [6]byte
	for i := range tag {
		tag[i] = 'A' + byte(sum%26)
		sum /= 26
	}
	return string(tag[:])
}
