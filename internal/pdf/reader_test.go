package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sello/internal/corpus"
)

// testObj is one object of a hand-made test file.
type testObj struct {
	num, gen   int
	body       string // object text, including "stream ... endstream" for streams
	compressed bool   // stored in the revision's object stream
	free       bool   // a free entry instead of an object
}

// testRev is one revision (the original file or an incremental update).
type testRev struct {
	objs      []testObj
	stream    bool   // cross-reference stream instead of a table
	hybrid    bool   // table plus /XRefStm for the compressed objects
	predictor bool   // Flate + PNG Up predictor on the xref stream
	objStm    int    // number of the object stream for compressed objects
	trailer   string // extra trailer entries
}

// buildPDF writes a PDF with one section per revision, each pointing at
// the previous through /Prev, and returns it with the offset of each
// revision's cross-reference section.
func buildPDF(revs ...testRev) ([]byte, []int) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	prev, size := -1, 1
	var starts []int
	for _, rv := range revs {
		type ent struct{ typ, f2, f3 int }
		ents := map[int]ent{}
		if prev < 0 {
			ents[0] = ent{0, 0, 65535}
		}
		var comp []testObj
		for _, o := range rv.objs {
			size = max(size, o.num+1)
			switch {
			case o.free:
				ents[o.num] = ent{0, 0, o.gen}
			case o.compressed:
				comp = append(comp, o)
			default:
				ents[o.num] = ent{1, b.Len(), o.gen}
				fmt.Fprintf(&b, "%d %d obj\n%s\nendobj\n", o.num, o.gen, o.body)
			}
		}
		tableEnts := maps.Clone(ents)
		streamEnts := map[int]ent{}
		if len(comp) > 0 {
			var head, data strings.Builder
			for i, o := range comp {
				fmt.Fprintf(&head, "%d %d ", o.num, data.Len())
				data.WriteString(o.body + "\n")
				streamEnts[o.num] = ent{2, rv.objStm, i}
			}
			size = max(size, rv.objStm+1)
			body := head.String() + data.String()
			ents[rv.objStm] = ent{1, b.Len(), 0}
			tableEnts[rv.objStm] = ents[rv.objStm]
			fmt.Fprintf(&b, "%d 0 obj\n<</Type/ObjStm/N %d/First %d/Length %d>>\nstream\n%s\nendstream\nendobj\n",
				rv.objStm, len(comp), head.Len(), len(body), body)
			for k, v := range streamEnts {
				ents[k] = v
			}
		}
		prevEntry := ""
		if prev >= 0 {
			prevEntry = fmt.Sprintf("/Prev %d", prev)
		}
		writeStream := func(es map[int]ent, num int, extra string) int {
			off := b.Len()
			es[num] = ent{1, off, 0}
			keys := slices.Sorted(maps.Keys(es))
			var index strings.Builder
			var rows []byte
			for i, k := range keys {
				if i == 0 || keys[i-1] != k-1 {
					n := 1
					for n+i < len(keys) && keys[i+n] == k+n {
						n++
					}
					fmt.Fprintf(&index, "%d %d ", k, n)
				}
				e := es[k]
				rows = append(rows, byte(e.typ), byte(e.f2>>24), byte(e.f2>>16), byte(e.f2>>8), byte(e.f2), byte(e.f3>>8), byte(e.f3))
			}
			filter := ""
			if rv.predictor {
				rows = pngUp(rows, 7)
				filter = "/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 7>>"
			}
			fmt.Fprintf(&b, "%d 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Index[%s]/Length %d%s %s %s>>\nstream\n%s\nendstream\nendobj\n",
				num, max(size, num+1), index.String(), len(rows), filter, extra, prevEntry, rows)
			return off
		}
		var start int
		switch {
		case rv.stream:
			num := size
			size++
			start = writeStream(ents, num, rv.trailer)
		default:
			xrefStm := ""
			if rv.hybrid {
				num := size
				size++
				off := writeStream(streamEnts, num, "")
				xrefStm = fmt.Sprintf("/XRefStm %d", off)
				tableEnts[num] = ent{1, off, 0}
				size = max(size, num+1)
			} else {
				tableEnts = ents
			}
			start = b.Len()
			b.WriteString("xref\n")
			keys := slices.Sorted(maps.Keys(tableEnts))
			for i := 0; i < len(keys); {
				n := 1
				for i+n < len(keys) && keys[i+n] == keys[i]+n {
					n++
				}
				fmt.Fprintf(&b, "%d %d\n", keys[i], n)
				for _, k := range keys[i : i+n] {
					e := tableEnts[k]
					c := "n"
					if e.typ != 1 {
						c = "f"
					}
					fmt.Fprintf(&b, "%010d %05d %s \n", e.f2, e.f3, c)
				}
				i += n
			}
			fmt.Fprintf(&b, "trailer\n<</Size %d %s %s %s>>\n", size, rv.trailer, prevEntry, xrefStm)
		}
		fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", start)
		starts = append(starts, start)
		prev = start
	}
	return b.Bytes(), starts
}

// pngUp applies the PNG Up filter to rows of width columns and deflates.
func pngUp(data []byte, columns int) []byte {
	var raw []byte
	prev := make([]byte, columns)
	for i := 0; i+columns <= len(data); i += columns {
		row := data[i : i+columns]
		raw = append(raw, 2)
		for k := range row {
			raw = append(raw, row[k]-prev[k])
		}
		prev = row
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(raw)
	w.Close()
	return z.Bytes()
}

// basicObjs is a one-page document.
var basicObjs = []testObj{
	{num: 1, body: "<</Type/Catalog/Pages 2 0 R>>"},
	{num: 2, body: "<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 612 792]>>"},
	{num: 3, body: "<</Type/Page/Parent 2 0 R/Contents 4 0 R>>"},
	{num: 4, body: "<</Length 5>>\nstream\nhello\nendstream"},
}

func mustOpen(t testing.TB, data []byte) *Reader {
	t.Helper()
	r, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	return r
}

func TestOpenStructures(t *testing.T) {
	t.Parallel()
	compressed := func(objs []testObj) []testObj {
		out := slices.Clone(objs)
		for i := range out {
			if !strings.Contains(out[i].body, "stream") {
				out[i].compressed = true
			}
		}
		return out
	}
	tests := []struct {
		name       string
		revs       []testRev
		xrefStream bool
		next       uint32
		want       map[Ref]Object // objects to check with Get
	}{
		{
			name: "table",
			revs: []testRev{{objs: basicObjs, trailer: "/Root 1 0 R"}},
			next: 5,
			want: map[Ref]Object{{2, 0}: Dict{"Type": Name("Pages"), "Kids": Array{Ref{3, 0}}, "Count": Integer(1), "MediaBox": Array{Integer(0), Integer(0), Integer(612), Integer(792)}}},
		},
		{
			name:       "xref stream with object stream",
			revs:       []testRev{{objs: compressed(basicObjs), stream: true, objStm: 5, trailer: "/Root 1 0 R"}},
			xrefStream: true,
			next:       7,
			want:       map[Ref]Object{{1, 0}: Dict{"Type": Name("Catalog"), "Pages": Ref{2, 0}}},
		},
		{
			name:       "xref stream with PNG predictor",
			revs:       []testRev{{objs: basicObjs, stream: true, predictor: true, trailer: "/Root 1 0 R"}},
			xrefStream: true,
			next:       6,
			want:       map[Ref]Object{{1, 0}: Dict{"Type": Name("Catalog"), "Pages": Ref{2, 0}}},
		},
		{
			name: "hybrid",
			revs: []testRev{{objs: compressed(basicObjs), hybrid: true, objStm: 5, trailer: "/Root 1 0 R"}},
			next: 7,
			want: map[Ref]Object{{1, 0}: Dict{"Type": Name("Catalog"), "Pages": Ref{2, 0}}},
		},
		{
			name: "incremental update replaces and frees",
			revs: []testRev{
				{objs: append(slices.Clone(basicObjs), testObj{num: 5, body: "(old)"}, testObj{num: 6, body: "(gone)"}), trailer: "/Root 1 0 R"},
				{objs: []testObj{{num: 5, body: "(new)"}, {num: 6, gen: 1, free: true}, {num: 7, body: "8 0 R"}}, trailer: "/Root 1 0 R"},
				{objs: []testObj{{num: 8, body: "(eight)"}}, stream: true, trailer: "/Root 1 0 R"},
			},
			xrefStream: true,
			next:       10,
			want: map[Ref]Object{
				{5, 0}: String("new"), {6, 0}: nil, {7, 0}: Ref{8, 0}, {8, 0}: String("eight"),
				{5, 1}: nil, {99, 0}: nil,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, starts := buildPDF(tc.revs...)
			r := mustOpen(t, data)
			if got := r.StartXRef(); got != int64(starts[len(starts)-1]) {
				t.Errorf("StartXRef() = %d, want %d", got, starts[len(starts)-1])
			}
			if r.XRefStream() != tc.xrefStream {
				t.Errorf("XRefStream() = %v, want %v", r.XRefStream(), tc.xrefStream)
			}
			if r.NextObjectNumber() != tc.next {
				t.Errorf("NextObjectNumber() = %d, want %d", r.NextObjectNumber(), tc.next)
			}
			if r.Repaired() || r.Version() != "1.7" || r.Size() != int64(len(data)) {
				t.Errorf("Repaired, Version, Size = %v, %q, %d", r.Repaired(), r.Version(), r.Size())
			}
			for ref, want := range tc.want {
				got, err := r.Get(ref)
				if err != nil {
					t.Fatalf("Get(%v) error = %v", ref, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Get(%v) (-want +got):\n%s", ref, diff)
				}
			}
			p, err := r.Page(0)
			if err != nil {
				t.Fatalf("Page(0) error = %v", err)
			}
			if p.Ref != (Ref{3, 0}) || p.MediaBox != (Rectangle{0, 0, 612, 792}) || p.CropBox != p.MediaBox {
				t.Errorf("Page(0) = %+v", p)
			}
			c, err := r.Resolve(p.Dict["Contents"])
			if err != nil {
				t.Fatal(err)
			}
			s, ok := c.(*Stream)
			if !ok {
				t.Fatalf("Contents = %T, want *Stream", c)
			}
			if got, err := r.StreamData(s); err != nil || string(got) != "hello" {
				t.Errorf("StreamData() = %q, %v, want \"hello\"", got, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	good, starts := buildPDF(testRev{objs: basicObjs, trailer: "/Root 1 0 R"})
	s := string(good)
	tail := fmt.Sprintf("startxref\n%d\n%%%%EOF\n", starts[0])
	loop, _ := buildPDF(testRev{objs: basicObjs, trailer: fmt.Sprintf("/Root 1 0 R/Prev %d", starts[0])})
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrNotPDF},
		{"not a PDF", "hello world", ErrNotPDF},
		{"junk before header", "junk\n" + s, ErrJunkBeforeHeader},
		{"no EOF marker", strings.TrimSuffix(s, "%%EOF\n"), ErrTruncated},
		{"no startxref", s[:len(s)-len(tail)], ErrTruncated},
		{"startxref beyond file", strings.Replace(s, tail, "startxref\n999999\n%%EOF\n", 1), ErrTruncated},
		{"truncated in the middle", s[:len(s)/2], ErrTruncated},
		{"startxref at nothing, no xref", strings.Replace(s, "xref\n0 ", "xxxx\n0 ", 1), ErrDamaged},
		{"prev loop", string(loop), ErrDamaged},
		{"prev at nothing", strings.Replace(s, "/Root 1 0 R", "/Root 1 0 R/Prev 9", 1), ErrDamaged},
		{"prev beyond file", strings.Replace(s, "/Root 1 0 R", "/Root 1 0 R/Prev 99999", 1), ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(strings.NewReader(tc.in), int64(len(tc.in)), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open() error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestOpenOddTables(t *testing.T) {
	t.Parallel()
	good, _ := buildPDF(testRev{objs: basicObjs, trailer: "/Root 1 0 R"})
	i := bytes.Index(good, []byte("xref\n"))
	body, table := good[:i], string(good[i:])
	tests := []struct {
		name  string
		table string
	}{
		{"19-byte lines with CRLF", strings.ReplaceAll(table, " \n", "\r\n")},
		{"19-byte lines with LF", strings.ReplaceAll(table, " \n", "\n")},
		{"odd white space", strings.NewReplacer("xref\n", "xref  \r\n", " 65535 ", "   65535\t", "0 6\n", "0   6 \r\n").Replace(table)},
		// mutool writes the head of the free list with generation 65536.
		{"free head generation 65536", strings.Replace(table, "0000000000 65535 f", "0000000000 65536 f", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustOpen(t, append(slices.Clone(body), tc.table...))
			if n, err := r.NumPages(); err != nil || n != 1 {
				t.Fatalf("NumPages() = %d, %v, want 1", n, err)
			}
			if o, err := r.Get(Ref{4, 0}); err != nil || o == nil {
				t.Fatalf("Get(4 0 R) = %v, %v", o, err)
			}
		})
	}
}

func TestRepair(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rev  testRev
		skew int
		want error // nil: repaired
	}{
		{"table, startxref short", testRev{objs: basicObjs, trailer: "/Root 1 0 R"}, -37, nil},
		{"table, startxref long", testRev{objs: basicObjs, trailer: "/Root 1 0 R"}, 3, nil},
		{"hybrid, startxref short", testRev{objs: basicObjs, hybrid: true, objStm: 5, trailer: "/Root 1 0 R"}, -5, nil},
		// Other readers cannot rebuild a file of xref streams: refused.
		{"xref stream, startxref short", testRev{objs: basicObjs, stream: true, trailer: "/Root 1 0 R"}, -5, ErrDamaged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, starts := buildPDF(tc.rev)
			start := starts[0]
			s := strings.Replace(string(data), fmt.Sprintf("startxref\n%d\n", start), fmt.Sprintf("startxref\n%d\n", start+tc.skew), 1)
			r, err := Open(strings.NewReader(s), int64(len(s)), nil)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open() error = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !r.Repaired() || r.StartXRef() != int64(start) {
				t.Errorf("Repaired(), StartXRef() = %v, %d, want true, %d", r.Repaired(), r.StartXRef(), start)
			}
			if n, err := r.NumPages(); err != nil || n != 1 {
				t.Errorf("NumPages() = %d, %v, want 1", n, err)
			}
		})
	}
}

// TestStartXRefAtLineEnd reads files whose startxref points at the line
// end before the section, as some writers make them: no repair is needed,
// and the section is known by its real offset.
func TestStartXRefAtLineEnd(t *testing.T) {
	t.Parallel()
	for name, rev := range map[string]testRev{
		"table":       {objs: basicObjs, trailer: "/Root 1 0 R"},
		"xref stream": {objs: basicObjs, stream: true, trailer: "/Root 1 0 R"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, starts := buildPDF(rev)
			start := starts[0]
			s := strings.Replace(string(data), fmt.Sprintf("startxref\n%d\n", start), fmt.Sprintf("startxref\n%d\n", start-1), 1)
			r, err := Open(strings.NewReader(s), int64(len(s)), nil)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if r.Repaired() || r.StartXRef() != int64(start) {
				t.Errorf("Repaired(), StartXRef() = %v, %d, want false, %d", r.Repaired(), r.StartXRef(), start)
			}
			if n, err := r.NumPages(); err != nil || n != 1 {
				t.Errorf("NumPages() = %d, %v, want 1", n, err)
			}
		})
	}
}

func TestIndirectLength(t *testing.T) {
	t.Parallel()
	objs := slices.Clone(basicObjs)
	objs[3] = testObj{num: 4, body: "<</Length 5 0 R>>\nstream\nhello\nendstream"}
	objs = append(objs, testObj{num: 5, body: "5"})
	data, _ := buildPDF(testRev{objs: objs, trailer: "/Root 1 0 R"})
	r := mustOpen(t, data)
	o, err := r.Get(Ref{4, 0})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.StreamData(o.(*Stream))
	if err != nil || string(got) != "hello" {
		t.Errorf("StreamData() = %q, %v, want \"hello\"", got, err)
	}
}

func TestWrongLength(t *testing.T) {
	t.Parallel()
	for _, length := range []string{"3", "500", "-1", "99 0 R"} {
		t.Run(length, func(t *testing.T) {
			t.Parallel()
			objs := slices.Clone(basicObjs)
			objs[3] = testObj{num: 4, body: "<</Length " + length + ">>\nstream\r\nhello\r\nendstream"}
			data, _ := buildPDF(testRev{objs: objs, trailer: "/Root 1 0 R"})
			r := mustOpen(t, data)
			o, err := r.Get(Ref{4, 0})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.StreamData(o.(*Stream))
			if err != nil || string(got) != "hello" {
				t.Errorf("StreamData() = %q, %v, want \"hello\"", got, err)
			}
		})
	}
}

// update makes tests rewrite their golden files in testdata.
var update = flag.Bool("update", false, "rewrite golden files in testdata")

func BenchmarkOpen(b *testing.B) {
	for _, name := range []string{"s01-google-docs.pdf", "s03-pdflatex-forms.pdf", "s15-pdftex-311-pages.pdf", "s20-linearized.pdf"} {
		data, err := os.ReadFile(filepath.Join(corpus.Root(), "corpus", name))
		if err != nil {
			b.Skipf("corpus file: %v", err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := Open(bytes.NewReader(data), int64(len(data)), nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Catalog(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestFullScanRepair(t *testing.T) {
	t.Parallel()
	two, _ := buildPDF(
		testRev{objs: append(slices.Clone(basicObjs), testObj{num: 5, body: "(old)"}), trailer: "/Root 1 0 R"},
		testRev{objs: []testObj{{num: 5, body: "(new)"}}, trailer: "/Root 1 0 R"},
	)
	noTrailer, _ := buildPDF(testRev{objs: basicObjs, trailer: "/Root 1 0 R"})
	objs := slices.Clone(basicObjs)
	for i := range 3 {
		objs[i].compressed = true
	}
	objStm, _ := buildPDF(testRev{objs: objs, stream: true, predictor: true, objStm: 5, trailer: "/Root 1 0 R"})
	tests := []struct {
		name string
		data string
		want Object // object 5, when present
	}{
		{"xref keywords destroyed", strings.ReplaceAll(string(two), "xref\n0 ", "xxxx\n0 "), String("new")},
		{"xref and trailer destroyed", strings.NewReplacer("xref\n0 ", "xxxx\n0 ", "trailer", "tttttt").Replace(string(noTrailer)), nil},
		{"xref stream destroyed, catalog in object stream", strings.Replace(string(objStm), "/Type/XRef", "/Type/XRe_", 1), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Open(strings.NewReader(tc.data), int64(len(tc.data)), nil); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Open() without FullScanRepair error = %v, want ErrDamaged", err)
			}
			r, err := Open(strings.NewReader(tc.data), int64(len(tc.data)), &Options{FullScanRepair: true})
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !r.Repaired() || !r.RepairedFullScan() || r.StartXRef() != 0 {
				t.Errorf("Repaired, RepairedFullScan, StartXRef = %v, %v, %d, want true, true, 0", r.Repaired(), r.RepairedFullScan(), r.StartXRef())
			}
			p, err := r.Page(0)
			if err != nil {
				t.Fatalf("Page(0) error = %v", err)
			}
			c, err := r.Resolve(p.Dict["Contents"])
			if err != nil {
				t.Fatal(err)
			}
			if got, err := r.StreamData(c.(*Stream)); err != nil || string(got) != "hello" {
				t.Errorf("StreamData() = %q, %v, want \"hello\"", got, err)
			}
			if tc.want != nil {
				if got, err := r.Get(Ref{5, 0}); err != nil || !cmp.Equal(got, tc.want) {
					t.Errorf("Get(5 0 R) = %v, %v, want %v", got, err, tc.want)
				}
			}
			if r.NextObjectNumber() < 5 {
				t.Errorf("NextObjectNumber() = %d, want at least 5", r.NextObjectNumber())
			}
		})
	}
	t.Run("truncated stays refused", func(t *testing.T) {
		t.Parallel()
		s := string(two)
		s = s[:len(s)*2/3]
		if _, err := Open(strings.NewReader(s), int64(len(s)), &Options{FullScanRepair: true}); !errors.Is(err, ErrTruncated) {
			t.Errorf("Open() error = %v, want ErrTruncated", err)
		}
	})
}
