package appearance

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"sello/internal/pdf"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// signingTime is the fixed time the tests sign at.
var signingTime = time.Date(2026, 12, 4, 21, 15, 3, 0, time.FixedZone("", -5*3600))

// spanish is a signer whose text WinAnsiEncoding covers.
func spanish() Options {
	return Options{
		Width: 220, Height: 70,
		Name: "José Núñez", Identification: "CC 1020304050", Time: signingTime,
		Reason: "Aprobación del contrato", Location: "São Paulo, Müller Straße",
	}
}

// polish is a signer whose name needs the embedded font.
func polish() Options {
	o := spanish()
	o.Name = "Łukasz Żółć"
	o.Identification = "PESEL 44051401359"
	o.Location = "Kraków, Dvořák 7"
	return o
}

func TestBuildRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Options)
	}{
		{"zero width", func(o *Options) { o.Width = 0 }},
		{"negative height", func(o *Options) { o.Height = -5 }},
		{"below minimum", func(o *Options) { o.Height = MinSide / 2 }},
		{"too large", func(o *Options) { o.Width = MaxSide + 1 }},
		{"NaN", func(o *Options) { o.Width = math.NaN() }},
		{"infinite", func(o *Options) { o.Height = math.Inf(1) }},
		{"odd rotation", func(o *Options) { o.Rotate = 45 }},
		{"no time", func(o *Options) { o.Time = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := spanish()
			tt.modify(&opts)
			d := &testDoc{}
			_, err := Build(d, opts)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Build() error = %v, want ErrInvalidOptions", err)
			}
			if len(d.objs) != 0 {
				t.Errorf("Build() added %d objects on error", len(d.objs))
			}
		})
	}
}

func TestBuildForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rotate     int
		wantMatrix pdf.Array
	}{
		{0, pdf.Array{pdf.Integer(1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(1), pdf.Integer(0), pdf.Integer(0)}},
		{90, pdf.Array{pdf.Integer(0), pdf.Integer(1), pdf.Integer(-1), pdf.Integer(0), pdf.Real(70.5), pdf.Integer(0)}},
		{180, pdf.Array{pdf.Integer(-1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(-1), pdf.Integer(220), pdf.Real(70.5)}},
		{270, pdf.Array{pdf.Integer(0), pdf.Integer(-1), pdf.Integer(1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(220)}},
		{-90, pdf.Array{pdf.Integer(0), pdf.Integer(-1), pdf.Integer(1), pdf.Integer(0), pdf.Integer(0), pdf.Integer(220)}},
		{450, pdf.Array{pdf.Integer(0), pdf.Integer(1), pdf.Integer(-1), pdf.Integer(0), pdf.Real(70.5), pdf.Integer(0)}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.rotate), func(t *testing.T) {
			t.Parallel()
			opts := spanish()
			opts.Height = 70.5
			opts.Rotate = tt.rotate
			d := &testDoc{}
			ref, err := Build(d, opts)
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			form, _ := d.stream(t, ref)
			want := pdf.Dict{
				"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Form"), "FormType": pdf.Integer(1),
				"BBox":   pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(220), pdf.Real(70.5)},
				"Matrix": tt.wantMatrix,
				"Filter": nil, // a short content stream stays uncompressed
			}
			got := pdf.Dict{}
			for k := range want {
				got[k] = form.Dict[k]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("form dictionary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildFonts(t *testing.T) {
	t.Parallel()
	t.Run("helvetica", func(t *testing.T) {
		t.Parallel()
		d := &testDoc{}
		ref, err := Build(d, spanish())
		if err != nil {
			t.Fatalf("Build() error = %v", err)
		}
		font := mustFont(t, d, ref)
		want := pdf.Dict{
			"Type": pdf.Name("Font"), "Subtype": pdf.Name("Type1"),
			"BaseFont": pdf.Name("Helvetica"), "Encoding": pdf.Name("WinAnsiEncoding"),
		}
		got := pdf.Dict{}
		for k := range want {
			got[k] = font[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("font dictionary (-want +got):\n%s", diff)
		}
		first, last := font["FirstChar"].(pdf.Integer), font["LastChar"].(pdf.Integer)
		widths := font["Widths"].(pdf.Array)
		if len(widths) != int(last-first+1) {
			t.Fatalf("%d widths for codes %d to %d", len(widths), first, last)
		}
		if got := widths[0xfa-first]; got != pdf.Integer(556) { // ú
			t.Errorf("width of ú = %v, want 556", got)
		}
		if len(d.objs) != 2 {
			t.Errorf("Build() added %d objects, want the form and the font", len(d.objs))
		}
	})
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		d := &testDoc{}
		ref, err := Build(d, polish())
		if err != nil {
			t.Fatalf("Build() error = %v", err)
		}
		font := mustFont(t, d, ref)
		if font["Subtype"] != pdf.Name("Type0") || font["Encoding"] != pdf.Name("Identity-H") {
			t.Fatalf("font is %v with %v, want Type0 with Identity-H", font["Subtype"], font["Encoding"])
		}
		base := string(font["BaseFont"].(pdf.Name))
		if !regexp.MustCompile(`^[A-Z]{6}\+GoRegular$`).MatchString(base) {
			t.Errorf("BaseFont = %q, want a subset tag and GoRegular", base)
		}
		cid, ok := d.get(t, font["DescendantFonts"].(pdf.Array)[0].(pdf.Ref)).(pdf.Dict)
		if !ok || cid["Subtype"] != pdf.Name("CIDFontType2") || cid["CIDToGIDMap"] != pdf.Name("Identity") {
			t.Fatalf("descendant font = %v, want CIDFontType2 with an Identity CIDToGIDMap", cid)
		}
		desc := d.get(t, cid["FontDescriptor"].(pdf.Ref)).(pdf.Dict)
		file, program := d.stream(t, desc["FontFile2"].(pdf.Ref))
		if got := file.Dict["Length1"]; got != pdf.Integer(len(program)) {
			t.Errorf("Length1 = %v, want %d", got, len(program))
		}
		if len(file.Raw) > 16<<10 {
			t.Errorf("font program is %d bytes compressed, want a subset under 16 KiB", len(file.Raw))
		}
		sub, err := parseSubset(program)
		if err != nil {
			t.Fatalf("parse subset: %v", err)
		}
		w := cid["W"].(pdf.Array)
		if len(w) != 2 || w[0] != pdf.Integer(0) || len(w[1].(pdf.Array)) != sub.numGlyphs {
			t.Errorf("W = %v, want widths for all %d glyphs", w, sub.numGlyphs)
		}

		_, cmapData := d.stream(t, font["ToUnicode"].(pdf.Ref))
		toUni := parseToUnicode(t, cmapData)
		_, content := d.stream(t, ref)
		var text []string
		for _, m := range regexp.MustCompile(`<([0-9A-F]*)> Tj`).FindAllSubmatch(content, -1) {
			var line []rune
			for i := 0; i+4 <= len(m[1]); i += 4 {
				c, _ := strconv.ParseUint(string(m[1][i:i+4]), 16, 16)
				line = append(line, toUni[uint16(c)])
			}
			text = append(text, string(line))
		}
		want := []string{
			"Digitally signed by Łukasz Żółć", "PESEL 44051401359",
			"Date: 2026-12-04 21:15:03 -05:00", "Reason: Aprobación del contrato",
			"Location: Kraków, Dvořák 7",
		}
		if diff := cmp.Diff(want, text); diff != "" {
			t.Errorf("text through ToUnicode (-want +got):\n%s", diff)
		}
	})
}

// mustFont returns the font dictionary the form at ref uses.
func mustFont(t *testing.T, d *testDoc, ref pdf.Ref) pdf.Dict {
	t.Helper()
	form, _ := d.stream(t, ref)
	fonts := form.Dict["Resources"].(pdf.Dict)["Font"].(pdf.Dict)
	r, ok := fonts[fontName].(pdf.Ref)
	if !ok {
		t.Fatalf("font resource %v is %T, want an indirect reference", fontName, fonts[fontName])
	}
	font, ok := d.get(t, r).(pdf.Dict)
	if !ok {
		t.Fatalf("font %v is not a dictionary", r)
	}
	return font
}

// parseToUnicode reads the bfchar entries of a ToUnicode CMap.
func parseToUnicode(t *testing.T, cmap []byte) map[uint16]rune {
	t.Helper()
	m := make(map[uint16]rune)
	for _, e := range regexp.MustCompile(`<([0-9A-F]{4})> <([0-9A-F]+)>`).FindAllSubmatch(cmap, -1) {
		c, _ := strconv.ParseUint(string(e[1]), 16, 16)
		u, _ := strconv.ParseUint(string(e[2][:4]), 16, 16)
		m[uint16(c)] = rune(u)
	}
	if len(m) == 0 {
		t.Fatalf("no bfchar entries in ToUnicode CMap:\n%s", cmap)
	}
	return m
}

// TestContentGolden pins the content streams for fixed inputs; run with
// -update to rewrite testdata/*.golden after a deliberate change.
func TestContentGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts func() Options
	}{
		{"helvetica", spanish},
		{"embedded", polish},
		{"rotated-wrapped", func() Options {
			o := spanish()
			o.Width, o.Height, o.Rotate = 90, 160, 90
			return o
		}},
		{"minimal", func() Options {
			return Options{Width: 150, Height: 30, Name: "Ana (Test) \\ Pérez", Time: signingTime}
		}},
		{"tiny", func() Options {
			o := spanish()
			o.Width, o.Height = 8, 5
			return o
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &testDoc{}
			ref, err := Build(d, tt.opts())
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			_, got := d.stream(t, ref)
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("content stream (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	long := "María de los Ángeles Fernández-Castañeda y Rodríguez de la Concepción"
	tests := []struct {
		name       string
		w, h       float64
		signer     string
		wantSize   [2]float64 // inclusive range
		wantLines  int        // 0: any
		wantNoText bool
	}{
		{name: "large box", w: 500, h: 300, signer: "José Núñez", wantSize: [2]float64{14, 14}, wantLines: 5},
		{name: "typical", w: 220, h: 70, signer: "José Núñez", wantSize: [2]float64{9, 12}, wantLines: 5},
		{name: "long name wraps", w: 150, h: 200, signer: long, wantSize: [2]float64{8, 14}},
		{name: "long name wide box", w: 600, h: 60, signer: long, wantSize: [2]float64{6, 10}, wantLines: 5},
		{name: "narrow", w: 40, h: 300, signer: "Müller", wantSize: [2]float64{readableSize, 14}},
		{name: "flat", w: 300, h: 12, signer: "José Núñez", wantSize: [2]float64{minFontSize, 2}},
		{name: "tiny", w: 3, h: 3, signer: "José Núñez", wantNoText: true},
		{name: "minimum", w: MinSide, h: MinSide, signer: "José Núñez", wantNoText: true},
		{name: "one long word", w: 60, h: 200, signer: strings.Repeat("Ñ", 40), wantSize: [2]float64{minFontSize, 14}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := spanish()
			opts.Width, opts.Height, opts.Name = tt.w, tt.h, tt.signer
			f, lines, err := chooseFace(nil, opts.lines())
			if err != nil {
				t.Fatal(err)
			}
			l := fit(f, lines, tt.w, tt.h)
			if tt.wantNoText {
				if l.size != 0 {
					t.Errorf("fit(%vx%v) size = %v, want no text", tt.w, tt.h, l.size)
				}
				return
			}
			if l.size < tt.wantSize[0] || l.size > tt.wantSize[1] {
				t.Errorf("fit(%vx%v) size = %v, want %v to %v", tt.w, tt.h, l.size, tt.wantSize[0], tt.wantSize[1])
			}
			if tt.wantLines != 0 && len(l.lines) != tt.wantLines {
				t.Errorf("fit(%vx%v) made %d lines, want %d", tt.w, tt.h, len(l.lines), tt.wantLines)
			}
			checkInside(t, f, l, tt.w, tt.h)
			var joined []string
			for _, line := range l.lines {
				joined = append(joined, string(line))
			}
			if got := strings.Join(joined, ""); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(strings.Join(lines, ""), " ", "") {
				t.Errorf("wrapped lines %q lose text of %q", joined, lines)
			}
		})
	}
}

// checkInside fails when some text of l would be drawn outside the part of
// the w by h box inside the border and its padding.
func checkInside(t *testing.T, f face, l layout, w, h float64) {
	t.Helper()
	if l.size == 0 {
		return
	}
	const eps = 0.002 // numbers are written with three decimals
	asc, desc := f.extent()
	for i, line := range l.lines {
		base := l.y - float64(i)*l.size*leading
		right := l.x + textWidth(f, line)*l.size/1000
		top, bottom := base+asc*l.size/1000, base+desc*l.size/1000
		if l.x < l.pad-eps || right > w-l.pad+eps || bottom < l.pad-eps || top > h-l.pad+eps {
			t.Errorf("line %d %q spans x %.3f..%.3f, y %.3f..%.3f: outside %vx%v with padding %.3f",
				i, string(line), l.x, right, bottom, top, w, h, l.pad)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "José Núñez", "José Núñez"},
		{"decomposed accents are composed", "Jose\u0301 Nu\u0301n\u0303ez", "José Núñez"},
		{"white space collapses", "  Ana \t\n  María  ", "Ana María"},
		{"controls become spaces", "Ana\x00María\x7f", "Ana María"},
		{"format characters drop", "Ana\u200bMaría\u00ad", "AnaMaría"},
		{"long text is cut", strings.Repeat("a", maxFieldRunes+5), strings.Repeat("a", maxFieldRunes) + "…"},
		{"huge text is cut", strings.Repeat("ñ", 1<<20), strings.Repeat("ñ", maxFieldRunes) + "…"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("many combining marks", func(t *testing.T) {
		t.Parallel()
		got := clean("a" + strings.Repeat("\u0301", 1<<16))
		if n := utf8.RuneCountInString(got); !strings.HasPrefix(got, "á") || n != maxFieldRunes+1 {
			t.Errorf("clean(a and 65536 accents) = %d characters starting %q, want %d starting with á", n, got[:4], maxFieldRunes+1)
		}
	})
}

func TestChooseFace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		embedded       bool
	}{
		{"spanish", "José Núñez", "José Núñez", false},
		{"portuguese and german", "São Paulo, Müller Straße, Façade, €", "São Paulo, Müller Straße, Façade, €", false},
		{"polish", "Łukasz Żółć", "Łukasz Żółć", true},
		{"czech", "Antonín Dvořák", "Antonín Dvořák", true},
		{"missing glyph", "Dvořák 漢字", "Dvořák ??", true},
		{"missing combining mark", "Dvořák q\u0303", "Dvořák q", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, lines, err := chooseFace(nil, []string{tt.in})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.(*embedded); ok != tt.embedded {
				t.Errorf("chooseFace(%q) is %T, want embedded %v", tt.in, f, tt.embedded)
			}
			if lines[0] != tt.want {
				t.Errorf("chooseFace(%q) shows %q, want %q", tt.in, lines[0], tt.want)
			}
		})
	}
}

// contentOperands says how many operands each operator the appearance may
// use takes (ISO 32000-2 Annex A).
var contentOperands = map[string]int{
	"q": 0, "Q": 0, "w": 1, "G": 1, "g": 1, "re": 4, "S": 0,
	"BT": 0, "ET": 0, "Tf": 2, "TL": 1, "Td": 2, "Tj": 1, "T*": 0,
}

// checkContent parses a content stream and fails on any token, operator,
// operand count or nesting that is not valid.
func checkContent(t *testing.T, content []byte, maxCID int) {
	t.Helper()
	var operands int
	depthQ, inText := 0, false
	for p := 0; p < len(content); {
		c := content[p]
		switch {
		case c == ' ' || c == '\n':
			p++
		case c == '(':
			depth, q := 1, p+1
			for ; q < len(content) && depth > 0; q++ {
				switch content[q] {
				case '\\':
					q++
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth != 0 {
				t.Fatalf("unterminated string at %d in:\n%s", p, content)
			}
			operands++
			p = q
		case c == '<':
			end := bytes.IndexByte(content[p:], '>')
			if end < 0 || (end-1)%4 != 0 {
				t.Fatalf("bad hex string at %d in:\n%s", p, content)
			}
			for i := p + 1; i < p+end; i += 4 {
				cid, err := strconv.ParseUint(string(content[i:i+4]), 16, 16)
				if err != nil || int(cid) >= maxCID {
					t.Fatalf("bad CID %q (font has %d) in:\n%s", content[i:i+4], maxCID, content)
				}
			}
			operands++
			p += end + 1
		default:
			end := p
			for end < len(content) && content[end] != ' ' && content[end] != '\n' {
				end++
			}
			tok := string(content[p:end])
			p = end
			if strings.HasPrefix(tok, "/") {
				operands++
				continue
			}
			if v, err := strconv.ParseFloat(tok, 64); err == nil {
				if strings.ContainsAny(tok, "eE") || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("number %q is not PDF syntax in:\n%s", tok, content)
				}
				operands++
				continue
			}
			want, ok := contentOperands[tok]
			if !ok || want != operands {
				t.Fatalf("operator %q with %d operands in:\n%s", tok, operands, content)
			}
			operands = 0
			switch tok {
			case "q":
				depthQ++
			case "Q":
				depthQ--
			case "BT":
				inText = true
			case "ET":
				inText = false
			}
			if depthQ < 0 || (!inText && strings.HasPrefix(tok, "T")) {
				t.Fatalf("operator %q out of place in:\n%s", tok, content)
			}
		}
	}
	if depthQ != 0 || inText || operands != 0 {
		t.Fatalf("unbalanced content stream:\n%s", content)
	}
}

func FuzzBuild(f *testing.F) {
	f.Add("José Núñez", "CC 1020304050", "", "", 220.0, 70.0, 0)
	f.Add("Łukasz Żółć", "PESEL 1", "Zgoda", "Kraków", 90.0, 160.0, 90)
	f.Add("Ana (Test) \\ x", "", "r", "l", 3.0, 3.0, 180)
	f.Add(strings.Repeat("W", 300), "\x00\xff", "漢字", "q\u0303", 40.0, 800.0, -90)
	f.Fuzz(func(t *testing.T, name, id, reason, location string, w, h float64, rotate int) {
		opts := Options{
			Width: w, Height: h, Rotate: rotate, Name: name, Identification: id,
			Reason: reason, Location: location, Time: signingTime,
		}
		d := &testDoc{}
		ref, err := Build(d, opts)
		if err != nil {
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Build() error = %v, want ErrInvalidOptions or nil", err)
			}
			return
		}
		_, content := d.stream(t, ref)
		maxCID := 0
		font := mustFont(t, d, ref)
		if font["Subtype"] == pdf.Name("Type0") {
			cid := d.get(t, font["DescendantFonts"].(pdf.Array)[0].(pdf.Ref)).(pdf.Dict)
			maxCID = len(cid["W"].(pdf.Array)[1].(pdf.Array))
		}
		checkContent(t, content, maxCID)

		face, lines, err := chooseFace(nil, opts.lines())
		if err != nil {
			t.Fatal(err)
		}
		checkInside(t, face, fit(face, lines, w, h), w, h)
	})
}

func BenchmarkBuild(b *testing.B) {
	for _, bb := range []struct {
		name string
		opts Options
	}{
		{"helvetica", spanish()},
		{"embedded", polish()},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			var builder Builder
			for b.Loop() {
				if _, err := builder.Build(&testDoc{}, bb.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"all fields", spanish(), []string{
			"Digitally signed by José Núñez", "CC 1020304050", "Date: 2026-12-04 21:15:03 -05:00",
			"Reason: Aprobación del contrato", "Location: São Paulo, Müller Straße",
		}},
		{"required only", Options{Name: " Ana  Pérez ", Time: signingTime.UTC()}, []string{
			"Digitally signed by Ana Pérez", "Date: 2026-12-05 02:15:03 +00:00",
		}},
		{"blank fields", Options{Name: "\t", Identification: " ", Reason: "\n", Location: "\u200b", Time: signingTime}, []string{
			"Digitally signed by", "Date: 2026-12-04 21:15:03 -05:00",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.opts.lines()); diff != "" {
				t.Errorf("lines() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewBuilderRejects refuses files that are not TrueType fonts with
// glyph outlines.
func TestNewBuilderRejects(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{
		"empty":  nil,
		"text":   []byte("not a font at all, but long enough to have a header"),
		"pdf":    []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"),
		"header": {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, err := NewBuilder(data); err == nil {
			t.Errorf("NewBuilder(%s) = nil error", name)
		}
	}
}
