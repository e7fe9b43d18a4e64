package pades_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sello/internal/appearance"
	"sello/internal/corpus"
	"sello/internal/keys"
	"sello/internal/pades"
	"sello/internal/pkitest"
)

// benchFiles builds, once per run, the documents the benchmarks sign: real
// corpus files near 100 KB and 1 MB, a 50 MB file and a 1,000-page file
// joined from corpus pages with qpdf.
var benchFiles = sync.OnceValues(func() (map[string]string, error) {
	root := corpus.Root()
	if root == "" {
		return nil, os.ErrNotExist
	}
	c := filepath.Join(root, "corpus")
	dir, err := os.MkdirTemp("", "sello-bench-")
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"100KB": filepath.Join(c, "s01-google-docs.pdf"),
		"1MB":   filepath.Join(c, "s15-pdftex-311-pages.pdf"),
	}
	// 27 copies of a 1.3 MB, 311-page manual: about 50 MB (qpdf writes the
	// objects out of their object streams), 8,397 pages.
	// Each copy has its own name, or qpdf would share the pages' objects.
	src, err := os.ReadFile(files["1MB"])
	if err != nil {
		return nil, err
	}
	args := []string{"--empty", "--pages"}
	for i := range 27 {
		p := filepath.Join(dir, fmt.Sprintf("part%02d.pdf", i))
		if err := os.WriteFile(p, src, 0o644); err != nil {
			return nil, err
		}
		args = append(args, p)
	}
	files["50MB"] = filepath.Join(dir, "50mb.pdf")
	args = append(args, "--", files["50MB"])
	if out, err := exec.Command("qpdf", args...).CombinedOutput(); err != nil {
		return nil, &exec.ExitError{Stderr: out}
	}
	// 1,000 pages: the 311-page manual four times, cut to 1,000.
	files["1000pages"] = filepath.Join(dir, "1000pages.pdf")
	m := files["1MB"]
	if out, err := exec.Command("qpdf", "--empty", "--pages", m, m, m, m, "--", filepath.Join(dir, "tmp.pdf")).CombinedOutput(); err != nil {
		return nil, &exec.ExitError{Stderr: out}
	}
	if out, err := exec.Command("qpdf", filepath.Join(dir, "tmp.pdf"), "--pages", ".", "1-1000", "--", files["1000pages"]).CombinedOutput(); err != nil {
		return nil, &exec.ExitError{Stderr: out}
	}
	return files, nil
})

// builder is shared by the benchmarks, as a service shares one.
var builder = new(appearance.Builder)

func benchKey(b *testing.B) *keys.Key {
	return pkitest.NewCA(b, pkitest.Options{CommonName: "Bench CA"}).
		Issue(b, pkitest.Options{CommonName: "Bench Signer", KeyType: pkitest.ECDSAP256})
}

func mustBenchFile(b *testing.B, name string) *os.File {
	b.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		b.Skip("qpdf is not installed")
	}
	files, err := benchFiles()
	if err != nil {
		b.Skipf("benchmark files: %v", err)
	}
	f, err := os.Open(files[name])
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

var benchRect = &pades.Rect{X1: 300, Y1: 300, X2: 500, Y2: 150}

// BenchmarkSign signs files of three sizes from disk, visibly on page 0,
// writing the result to io.Discard.
func BenchmarkSign(b *testing.B) {
	key := benchKey(b)
	for _, size := range []string{"100KB", "1MB", "50MB"} {
		b.Run(size, func(b *testing.B) {
			f := mustBenchFile(b, size)
			st, _ := f.Stat()
			opts := pades.Options{Appearance: builder, Key: key, Rect: benchRect, Name: "Bench Signer", Identification: "CC 1", Time: time.Unix(1e9, 0)}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				s, err := pades.Sign(b.Context(), f, st.Size(), opts)
				if err != nil {
					b.Fatal(err)
				}
				_ = s
			}
		})
	}
}

// BenchmarkFloor measures the least any signer must do for the same files:
// one SHA-256 pass over the bytes (read from disk) plus one private-key
// operation.
func BenchmarkFloor(b *testing.B) {
	key := benchKey(b)
	for _, size := range []string{"100KB", "1MB", "50MB"} {
		b.Run(size, func(b *testing.B) {
			f := mustBenchFile(b, size)
			st, _ := f.Stat()
			buf := make([]byte, 256<<10)
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				h := sha256.New()
				if _, err := copyAt(h, f, st.Size(), buf); err != nil {
					b.Fatal(err)
				}
				if _, err := key.Signer.Sign(rand.Reader, h.Sum(nil), crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignPage compares signing the first and the last page of a
// 1,000-page document: reading the page tree must cost only the path to the
// page.
func BenchmarkSignPage(b *testing.B) {
	key := benchKey(b)
	f := mustBenchFile(b, "1000pages")
	st, _ := f.Stat()
	for _, tc := range []struct {
		name string
		page int
	}{{"first", 0}, {"last", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := pades.Options{Appearance: builder, Key: key, Page: tc.page, Rect: benchRect, Name: "Bench Signer", Time: time.Unix(1e9, 0)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pades.Sign(b.Context(), f, st.Size(), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignMemory signs a 100 KB document held in memory, as the
// service does for small uploads.
func BenchmarkSignMemory(b *testing.B) {
	key := benchKey(b)
	f := mustBenchFile(b, "100KB")
	data, err := os.ReadFile(f.Name())
	if err != nil {
		b.Fatal(err)
	}
	opts := pades.Options{Appearance: builder, Key: key, Rect: benchRect, Name: "Bench Signer", Time: time.Unix(1e9, 0)}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pades.Sign(b.Context(), bytes.NewReader(data), int64(len(data)), opts); err != nil {
			b.Fatal(err)
		}
	}
}

func copyAt(h interface{ Write([]byte) (int, error) }, f *os.File, size int64, buf []byte) (int64, error) {
	var off int64
	for off < size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if err != nil && off < size {
			return off, err
		}
	}
	return off, nil
}
