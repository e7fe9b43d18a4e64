package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sello/internal/corpus"
)

// pageTree builds a document whose catalog is 1 0 R and page tree root is
// 2 0 R from the given extra objects.
func pageTree(root string, objs ...testObj) []byte {
	all := append([]testObj{
		{num: 1, body: "<</Type/Catalog/Pages 2 0 R>>"},
		{num: 2, body: root},
	}, objs...)
	data, _ := buildPDF(testRev{objs: all, trailer: "/Root 1 0 R"})
	return data
}

func TestPageInheritance(t *testing.T) {
	t.Parallel()
	// Root (MediaBox, Rotate 450) -> node 3 (CropBox, Resources) -> pages 4, 5, 9, 10;
	// root -> page 6 (own MediaBox reversed, Rotate -90, CropBox outside).
	// Page 9's /Rotate is a real, not an integer: skipped, the inherited
	// 450 stays, as it does over page 11's, beyond 32 bits. Page 10's is
	// not a multiple of 90: unrotated, and reported.
	data := pageTree("<</Type/Pages/Kids[3 0 R 6 0 R]/Count 6/MediaBox[0 0 600 800]/Rotate 450>>",
		testObj{num: 3, body: "<</Type/Pages/Parent 2 0 R/Kids[4 0 R 5 0 R 9 0 R 10 0 R 11 0 R]/Count 5/CropBox 7 0 R/Resources<</Font<<>>>>>>"},
		testObj{num: 4, body: "<</Type/Page/Parent 3 0 R>>"},
		testObj{num: 5, body: "<</Type/Page/Parent 3 0 R/Rotate 180/Resources 8 0 R>>"},
		testObj{num: 6, body: "<</Type/Page/Parent 2 0 R/MediaBox[100 200 -100 -200]/CropBox[500 500 900 900]/Rotate -90>>"},
		testObj{num: 7, body: "[10 20 590.5 780]"},
		testObj{num: 8, body: "<<>>"},
		testObj{num: 9, body: "<</Type/Page/Parent 3 0 R/Rotate 180.0>>"},
		testObj{num: 10, body: "<</Type/Page/Parent 3 0 R/Rotate 45>>"},
		testObj{num: 11, body: "<</Type/Page/Parent 3 0 R/Rotate 2147483970>>"},
	)
	r := mustOpen(t, data)
	tests := []struct {
		index int
		want  Page
	}{
		{0, Page{Ref: Ref{4, 0}, MediaBox: Rectangle{0, 0, 600, 800}, CropBox: Rectangle{10, 20, 590.5, 780}, Rotate: 90, Resources: Dict{"Font": Dict{}}}},
		{1, Page{Ref: Ref{5, 0}, MediaBox: Rectangle{0, 0, 600, 800}, CropBox: Rectangle{10, 20, 590.5, 780}, Rotate: 180, Resources: Ref{8, 0}}},
		{2, Page{Ref: Ref{9, 0}, MediaBox: Rectangle{0, 0, 600, 800}, CropBox: Rectangle{10, 20, 590.5, 780}, Rotate: 90, Resources: Dict{"Font": Dict{}}}},
		{3, Page{Ref: Ref{10, 0}, MediaBox: Rectangle{0, 0, 600, 800}, CropBox: Rectangle{10, 20, 590.5, 780}, Rotate: 0, OddRotate: 45, Resources: Dict{"Font": Dict{}}}},
		{4, Page{Ref: Ref{11, 0}, MediaBox: Rectangle{0, 0, 600, 800}, CropBox: Rectangle{10, 20, 590.5, 780}, Rotate: 90, Resources: Dict{"Font": Dict{}}}},
		{5, Page{Ref: Ref{6, 0}, MediaBox: Rectangle{-100, -200, 100, 200}, CropBox: Rectangle{-100, -200, 100, 200}, Rotate: 270}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.index), func(t *testing.T) {
			p, err := r.Page(tc.index)
			if err != nil {
				t.Fatalf("Page(%d) error = %v", tc.index, err)
			}
			if diff := cmp.Diff(&tc.want, p, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Dict" }, cmp.Ignore())); diff != "" {
				t.Errorf("Page(%d) (-want +got):\n%s", tc.index, diff)
			}
		})
	}
	if _, err := r.Page(6); !errors.Is(err, ErrPageRange) {
		t.Errorf("Page(6) error = %v, want ErrPageRange", err)
	}
	if _, err := r.Page(-1); !errors.Is(err, ErrPageRange) {
		t.Errorf("Page(-1) error = %v, want ErrPageRange", err)
	}
}

func TestPageTreeDamage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		page int
		want error
	}{
		{"loop", pageTree("<</Type/Pages/Kids[3 0 R]/Count 2>>",
			testObj{num: 3, body: "<</Type/Pages/Kids[2 0 R]/Count 2>>"}), 1, ErrDamaged},
		{"count too big", pageTree("<</Type/Pages/Kids[3 0 R]/Count 5>>",
			testObj{num: 3, body: "<</Type/Page>>"}), 4, ErrDamaged},
		{"kid not a reference", pageTree("<</Type/Pages/Kids[<<>>]/Count 1>>"), 0, ErrDamaged},
		{"missing kid count", pageTree("<</Type/Pages/Kids[3 0 R]/Count 1>>",
			testObj{num: 3, body: "<</Type/Pages/Kids[]>>"}), 0, ErrDamaged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustOpen(t, tc.data)
			if _, err := r.Page(tc.page); !errors.Is(err, tc.want) {
				t.Errorf("Page(%d) error = %v, want %v", tc.page, err, tc.want)
			}
		})
	}
}

// deepTree builds a page tree of depth levels, fan-out kids per node.
func deepTree(levels, fan int) []byte {
	var objs []testObj
	next := 3
	var build func(num, parent, level int) int
	build = func(num, parent, level int) int {
		if level == levels {
			objs = append(objs, testObj{num: num, body: fmt.Sprintf("<</Type/Page/Parent %d 0 R/Contents 1 0 R>>", parent)})
			return 1
		}
		var kids []string
		count := 0
		for range fan {
			k := next
			next++
			kids = append(kids, fmt.Sprintf("%d 0 R", k))
			count += build(k, num, level+1)
		}
		body := fmt.Sprintf("<</Type/Pages/Kids[%s]/Count %d>>", strings.Join(kids, " "), count)
		if num == 2 {
			body = fmt.Sprintf("<</Type/Pages/Kids[%s]/Count %d/MediaBox[0 0 612 792]>>", strings.Join(kids, " "), count)
		}
		objs = append(objs, testObj{num: num, body: body})
		return count
	}
	build(2, 0, 0)
	return pageTree(objs[len(objs)-1].body, objs[:len(objs)-1]...)
}

func BenchmarkPage(b *testing.B) {
	type file struct {
		name string
		data []byte
	}
	files := []file{{"synthetic-4096-pages-tree", deepTree(4, 8)}, {"synthetic-4096-pages-flat", deepTree(1, 4096)}}
	for _, name := range []string{"s15-pdftex-311-pages.pdf", "s20-linearized.pdf"} {
		if data, err := os.ReadFile(filepath.Join(corpus.Root(), "corpus", name)); err == nil {
			files = append(files, file{name, data})
		}
	}
	for _, f := range files {
		r := mustOpen(b, f.data)
		n, err := r.NumPages()
		if err != nil {
			b.Fatal(err)
		}
		for _, i := range []int{0, n - 1} {
			b.Run(fmt.Sprintf("%s/page-%d", f.name, i), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r, err := Open(bytes.NewReader(f.data), int64(len(f.data)), nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := r.Page(i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
