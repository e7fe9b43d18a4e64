package pdf

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sello/internal/corpus"
)

// manifestRow is one line of the corpus MANIFEST.tsv.
type manifestRow struct {
	file  string
	pages int // -1 when unknown
}

// mustManifest returns the corpus manifest, skipping the test when the
// shared corpus is absent.
func mustManifest(t testing.TB) []manifestRow {
	t.Helper()
	var rows []manifestRow
	for _, e := range corpus.Manifest(t) {
		n := e.Pages
		if n == 0 {
			n = -1
		}
		rows = append(rows, manifestRow{file: e.File, pages: n})
	}
	return rows
}

// mustOpenFile opens a PDF file with a Reader; the file closes at cleanup.
func mustOpenFile(t testing.TB, path string) (*Reader, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return Open(f, st.Size(), nil)
}

// pageWant is the expected geometry of one page.
type pageWant struct {
	index    int
	mediaBox Rectangle
	cropBox  Rectangle
	rotate   int
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	a4 := Rectangle{0, 0, 595.275591, 841.889764}
	tests := map[string]struct {
		wantErr       error
		needsPassword bool
		repaired      bool
		version       string
		xrefStream    bool
		pages         []pageWant
	}{
		"s01-google-docs.pdf":           {version: "1.4"},
		"s03-pdflatex-forms.pdf":        {xrefStream: true},
		"s04-rotated-pages.pdf":         {pages: []pageWant{{0, a4, a4, 90}, {1, a4, a4, 180}, {2, a4, a4, 270}, {3, a4, a4, 0}}},
		"s06-libreoffice-userpw.pdf":    {needsPassword: true},
		"s07-pdf20-simple.pdf":          {version: "2.0"},
		"s08-pdf20-offset-start.pdf":    {wantErr: ErrJunkBeforeHeader},
		"s09-pdf20-via-incremental.pdf": {version: "2.0"},
		"s13-hybrid-xref-msword-style.pdf": {pages: []pageWant{
			{0, Rectangle{0, 0, 300, 144}, Rectangle{0, 0, 300, 144}, 0},
		}},
		"s15-pdftex-311-pages.pdf": {xrefStream: true},
		"s19-objstm.pdf":           {xrefStream: true},
		"s23-aes256-userpw.pdf":    {needsPassword: true},
		"s24-broken-startxref.pdf": {repaired: true},
		"s25-truncated.pdf":        {wantErr: ErrTruncated},
		"s26-rotate90-offset-boxes.pdf": {pages: []pageWant{
			{0, Rectangle{-306, -396, 306, 396}, Rectangle{-286, -366, 286, 366}, 90},
		}},
		"s27-inherited-attributes.pdf": {pages: []pageWant{
			{0, Rectangle{0, 0, 362.835, 272.126}, Rectangle{0, 0, 362.835, 272.126}, 0},
			{13, Rectangle{0, 0, 362.835, 272.126}, Rectangle{0, 0, 362.835, 272.126}, 0},
		}},
		"s28-multi-incremental.pdf": {xrefStream: true},
	}
	for _, row := range mustManifest(t) {
		t.Run(row.file, func(t *testing.T) {
			t.Parallel()
			tc := tests[row.file]
			r, err := mustOpenFile(t, filepath.Join(corpus.Dir(t), row.file))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if got := r.Repaired(); got != tc.repaired {
				t.Errorf("Repaired() = %v, want %v", got, tc.repaired)
			}
			if tc.version != "" && r.Version() != tc.version {
				t.Errorf("Version() = %q, want %q", r.Version(), tc.version)
			}
			if tc.xrefStream && !r.XRefStream() {
				t.Errorf("XRefStream() = false, want true")
			}
			if tc.needsPassword {
				if r.Security() == nil || !r.Security().NeedsPassword {
					t.Fatalf("Security() = %+v, want NeedsPassword", r.Security())
				}
				return
			}
			n, err := r.NumPages()
			if err != nil {
				t.Fatalf("NumPages() error = %v", err)
			}
			if n != row.pages {
				t.Errorf("NumPages() = %d, want %d", n, row.pages)
			}
			if r.NextObjectNumber() == 0 {
				t.Errorf("NextObjectNumber() = 0")
			}
			for _, i := range []int{0, n - 1} {
				p, err := r.Page(i)
				if err != nil {
					t.Fatalf("Page(%d) error = %v", i, err)
				}
				if p.MediaBox.Width() <= 0 || p.MediaBox.Height() <= 0 {
					t.Errorf("Page(%d).MediaBox = %v, want an area", i, p.MediaBox)
				}
				if p.Resources == nil {
					t.Errorf("Page(%d).Resources = nil", i)
				}
			}
			for _, w := range tc.pages {
				p, err := r.Page(w.index)
				if err != nil {
					t.Fatalf("Page(%d) error = %v", w.index, err)
				}
				got := pageWant{w.index, p.MediaBox, p.CropBox, p.Rotate}
				if diff := cmp.Diff(w, got, cmp.AllowUnexported(pageWant{})); diff != "" {
					t.Errorf("Page(%d) (-want +got):\n%s", w.index, diff)
				}
			}
		})
	}
}

func TestCorpusQPDF(t *testing.T) {
	t.Parallel()
	mustManifest(t)
	qpdf := mustTool(t, "qpdf")
	for _, name := range []string{"s03-pdflatex-forms.pdf", "s05-linearized-3heights.pdf", "s13-hybrid-xref-msword-style.pdf", "s18-quartz-incremental.pdf", "s28-multi-incremental.pdf"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(corpus.Dir(t), name)
			out, err := exec.Command(qpdf, "--show-npages", path).Output()
			if err != nil {
				t.Fatalf("qpdf --show-npages: %v", err)
			}
			want, err := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil {
				t.Fatal(err)
			}
			r, err := mustOpenFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := r.NumPages(); err != nil || got != want {
				t.Errorf("NumPages() = %d, %v, want %d (qpdf)", got, err, want)
			}
		})
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r *os.File
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestReadsLittle checks that opening a document and reading its first and
// last pages reads a small part of it: the reader must never load whole
// files.
func TestReadsLittle(t *testing.T) {
	t.Parallel()
	mustManifest(t)
	for _, name := range []string{"s14-groff-ghostscript.pdf", "s16-reportlab.pdf", "s20-linearized.pdf"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join(corpus.Dir(t), name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			c := &countingReaderAt{r: f}
			r, err := Open(c, st.Size(), nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := r.NumPages()
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{0, n - 1} {
				if _, err := r.Page(i); err != nil {
					t.Fatal(err)
				}
			}
			if c.n > st.Size()/10 {
				t.Errorf("read %d of %d bytes, want at most a tenth", c.n, st.Size())
			}
			t.Logf("read %d of %d bytes", c.n, st.Size())
		})
	}
}
