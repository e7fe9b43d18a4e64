package pdf

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sello/internal/corpus"
)

// fuzzOptions keep fuzzed documents small.
var fuzzOptions = Options{MaxObjectBytes: 1 << 16, MaxDecodedStream: 1 << 20, MaxDepth: 32, MaxObjects: 1 << 16, MaxXRefSections: 64, FullScanRepair: true}

// addSeedFiles adds the PDF fixtures of testdata as seeds.
func addSeedFiles(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.pdf"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// exercise reads everything a signer reads from r; it must not panic or
// hang, whatever the input.
func exercise(r *Reader) {
	_ = r.Version()
	_ = r.NextObjectNumber()
	if n, err := r.NumPages(); err == nil && n > 0 {
		_, _ = r.Page(0)
		_, _ = r.Page(n - 1)
	}
	for num := range uint32(64) {
		o, err := r.Get(Ref{Num: num})
		if err != nil {
			continue
		}
		if s, ok := o.(*Stream); ok {
			_, _ = r.StreamData(s)
		}
		_, _ = r.Resolve(o)
	}
}

func FuzzLexer(f *testing.F) {
	for _, s := range []string{"<</A 1 0 R/B[(x\\)y)<41 4>]>>", "1 -2 +3 4. -.5 /N#41me % c\n(a(b)c)", "(\\101\\\r\n)"} {
		f.Add([]byte(s))
	}
	for _, b := range addSeedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, final := range []bool{true, false} {
			lx := lexer{data: data, final: final}
			last := -1
			for {
				tok, err := lx.next()
				if err != nil || tok.kind == tokEOF {
					break
				}
				if lx.pos <= last || lx.pos > len(data) {
					t.Fatalf("lexer did not advance: pos %d after %d", lx.pos, last)
				}
				last = lx.pos
			}
		}
	})
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{"<</Type/Page/Kids[1 0 R 2 0 R]/Count 2>>", "[1 2 R 3 0 R [[[]]] <<>>]", "1 0 obj\n<</Length 3>>\nstream\nabc\nendstream\nendobj"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := newParser(data, 0, true, 32)
		_, _ = p.object()
		p = newParser(data, 0, true, 32)
		_, _, _, _ = p.indirect()
	})
}

func FuzzXRefTable(f *testing.F) {
	f.Add([]byte("xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<</Size 2/Root 1 0 R>>\n"))
	f.Add([]byte("xref\r\n0 1\r\n0000000000 65535 f\r\n3 1\n0000000009 00000 n\ntrailer<</Size 4/Prev 9>>"))
	f.Fuzz(func(t *testing.T, table []byte) {
		var b bytes.Buffer
		b.WriteString("%PDF-1.7\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n")
		start := b.Len()
		b.Write(table)
		fmt.Fprintf(&b, "\nstartxref\n%d\n%%%%EOF\n", start)
		r, err := Open(bytes.NewReader(b.Bytes()), int64(b.Len()), &fuzzOptions)
		if err != nil {
			return
		}
		exercise(r)
	})
}

func FuzzXRefStream(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 9, 0, 0, 2, 0, 0, 0, 5, 0, 1}, uint8(1), uint8(4), uint8(2), "/Index[1 2]")
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0}, uint8(0), uint8(4), uint8(0), "")
	f.Fuzz(func(t *testing.T, rows []byte, w0, w1, w2 uint8, extra string) {
		var b bytes.Buffer
		b.WriteString("%PDF-1.7\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n")
		start := b.Len()
		fmt.Fprintf(&b, "3 0 obj\n<</Type/XRef/Size 4/Root 1 0 R/W[%d %d %d]%s/Length %d>>\nstream\n", w0%10, w1%10, w2%10, extra, len(rows))
		b.Write(rows)
		fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", start)
		r, err := Open(bytes.NewReader(b.Bytes()), int64(b.Len()), &fuzzOptions)
		if err != nil {
			return
		}
		exercise(r)
	})
}

func FuzzOpen(f *testing.F) {
	for _, b := range addSeedFiles(f) {
		f.Add(b)
	}
	// Small real-world files make better seeds when the shared corpus is
	// present; they are read, never copied into testdata.
	if root := corpus.Root(); root != "" {
		paths, _ := filepath.Glob(filepath.Join(root, "corpus", "*.pdf"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && len(b) < 16<<10 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), int64(len(data)), &fuzzOptions)
		if err != nil {
			return
		}
		exercise(r)
	})
}

// TestWriteSeeds rewrites the PDF fixtures of testdata from the test
// builder when run with -update.
func TestWriteSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/*.pdf")
	}
	compressed := func(objs []testObj) []testObj {
		out := append([]testObj(nil), objs...)
		for i := range out {
			if !bytes.Contains([]byte(out[i].body), []byte("stream")) {
				out[i].compressed = true
			}
		}
		return out
	}
	files := map[string][]testRev{
		"table.pdf":       {{objs: basicObjs, trailer: "/Root 1 0 R"}},
		"xrefstream.pdf":  {{objs: compressed(basicObjs), stream: true, predictor: true, objStm: 5, trailer: "/Root 1 0 R"}},
		"hybrid.pdf":      {{objs: compressed(basicObjs), hybrid: true, objStm: 5, trailer: "/Root 1 0 R"}},
		"incremental.pdf": {{objs: basicObjs, trailer: "/Root 1 0 R"}, {objs: []testObj{{num: 3, body: "<</Type/Page/Parent 2 0 R/Rotate -90/CropBox[10 10 700 700]>>"}}, stream: true, trailer: "/Root 1 0 R"}},
	}
	for name, revs := range files {
		data, _ := buildPDF(revs...)
		if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
