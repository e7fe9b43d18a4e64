package appearance

import (
	"fmt"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dejaVuSans is where Debian's fonts-dejavu-core installs DejaVu Sans.
const dejaVuSans = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// mustTool returns the path of an external program, skipping the test when
// it is missing, or failing it when SELLO_TEST_REQUIRE names group (as CI
// does).
func mustTool(t *testing.T, name, group string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if slices.Contains(strings.Split(os.Getenv("SELLO_TEST_REQUIRE"), ","), group) {
		t.Fatalf("%s is required (SELLO_TEST_REQUIRE=%s) but not found", name, os.Getenv("SELLO_TEST_REQUIRE"))
	}
	t.Skipf("%s not found", name)
	return ""
}

// run runs a program and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestRender draws appearances on pages with each rotation and checks, with
// poppler and mupdf, that they show inside their rectangle only, that their
// text reads upright, and that it extracts as written.
func TestRender(t *testing.T) {
	if testing.Short() {
		t.Skip("runs external renderers")
	}
	t.Parallel()
	pdftoppm := mustTool(t, "pdftoppm", "pdfsig")
	pdftotext := mustTool(t, "pdftotext", "pdfsig")
	mutool := mustTool(t, "mutool", "mutool")

	signers := []struct {
		name  string
		opts  func() Options
		lines []string
		font  bool // draw with DejaVu Sans instead of Go Regular
	}{
		{"spanish", spanish, []string{
			"Digitally signed by José Núñez", "CC 1020304050", "Date: 2026-12-04 21:15:03 -05:00",
			"Reason: Aprobación del contrato", "Location: São Paulo, Müller Straße",
		}, false},
		{"polish", polish, []string{
			"Digitally signed by Łukasz Żółć", "PESEL 44051401359", "Location: Kraków, Dvořák 7",
		}, false},
		{"czech", func() Options {
			o := spanish()
			o.Name, o.Location = "Antonín Dvořák", "Nelahozeves"
			return o
		}, []string{"Digitally signed by Antonín Dvořák", "Location: Nelahozeves"}, false},
		// Letters Go Regular lacks, in a configured font.
		{"vietnamese", func() Options {
			o := spanish()
			o.Name, o.Reason, o.Location = "Nguyễn Thị Hương", "Əliyev GROẞMANN", "Hà Nội"
			return o
		}, []string{"Digitally signed by Nguyễn Thị Hương", "Reason: Əliyev GROẞMANN", "Location: Hà Nội"}, true},
	}
	dejaVu := func(t *testing.T) *Builder {
		t.Helper()
		data, err := os.ReadFile(dejaVuSans)
		if err != nil {
			if slices.Contains(strings.Split(os.Getenv("SELLO_TEST_REQUIRE"), ","), "fonts") {
				t.Fatalf("DejaVu Sans is required (SELLO_TEST_REQUIRE): %v", err)
			}
			t.Skipf("DejaVu Sans: %v (install fonts-dejavu-core)", err)
		}
		b, err := NewBuilder(data)
		if err != nil {
			t.Fatalf("NewBuilder(DejaVu Sans) = %v", err)
		}
		return b
	}
	for _, s := range signers {
		for _, rotate := range []int{0, 90, 180, 270} {
			for _, content := range []bool{false, true} {
				how := "widget"
				if content {
					how = "content"
				}
				t.Run(fmt.Sprintf("%s/%d/%s", s.name, rotate, how), func(t *testing.T) {
					t.Parallel()
					p := placement{
						mediaBox: [4]float64{10, 20, 460, 370},
						rotate:   rotate,
						rect:     [4]float64{40, 60, 300, 140},
						content:  content,
					}
					opts := s.opts()
					opts.Width, opts.Height, opts.Rotate = p.rect[2]-p.rect[0], p.rect[3]-p.rect[1], rotate
					builder := new(Builder)
					if s.font {
						builder = dejaVu(t)
					}
					d := &testDoc{}
					ref, err := builder.Build(d, opts)
					if err != nil {
						t.Fatalf("Build() error = %v", err)
					}
					dir := t.TempDir()
					file := filepath.Join(dir, "page.pdf")
					if err := os.WriteFile(file, d.mustPagePDF(t, ref, p), 0o644); err != nil {
						t.Fatal(err)
					}

					run(t, pdftoppm, "-r", "72", "-gray", "-png", "-singlefile", file, filepath.Join(dir, "poppler"))
					checkPixels(t, filepath.Join(dir, "poppler.png"), p)
					run(t, mutool, "draw", "-q", "-r", "72", "-c", "gray", "-o", filepath.Join(dir, "mupdf.png"), file)
					checkPixels(t, filepath.Join(dir, "mupdf.png"), p)

					for tool, text := range map[string]string{
						"pdftotext":      run(t, pdftotext, "-enc", "UTF-8", file, "-"),
						"mutool draw -F": run(t, mutool, "draw", "-q", "-F", "txt", "-o", "-", file),
					} {
						for _, line := range s.lines {
							if !strings.Contains(text, line) {
								t.Errorf("%s extracted %q, want a line %q", tool, text, line)
							}
						}
					}
					checkUpright(t, run(t, pdftotext, "-bbox", file, "-"), p)
					stext := run(t, mutool, "draw", "-q", "-F", "stext", "-o", "-", file)
					dirs := regexp.MustCompile(`<line [^>]*dir="([^"]*)"`).FindAllStringSubmatch(stext, -1)
					if len(dirs) == 0 {
						t.Errorf("mutool found no text lines:\n%s", stext)
					}
					for _, m := range dirs {
						if m[1] != "1 0" {
							t.Errorf("mutool reads a line in direction %q, want upright \"1 0\"", m[1])
						}
					}
				})
			}
		}
	}
}

// checkPixels fails when a page rendered at 72 dpi has ink outside the
// placement's rectangle, or too little ink inside it.
func checkPixels(t *testing.T, path string, p placement) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	w, h := p.displaySize()
	if b := img.Bounds(); b.Dx() != int(w+0.5) || b.Dy() != int(h+0.5) {
		t.Fatalf("%s is %dx%d pixels, want %vx%v", filepath.Base(path), b.Dx(), b.Dy(), w, h)
	}
	// Image rows count from the top; the rectangle's y from the bottom.
	x1, x2 := p.rect[0], p.rect[2]
	y1, y2 := h-p.rect[3], h-p.rect[1]
	const slack = 1.5 // antialiasing at the rectangle's edges
	var outside, inside, ink int
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			dark := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 160
			cx, cy := float64(x)+0.5, float64(y)+0.5
			switch {
			case cx < x1-slack || cx > x2+slack || cy < y1-slack || cy > y2+slack:
				if dark {
					outside++
				}
			case cx > x1+3 && cx < x2-3 && cy > y1+3 && cy < y2-3:
				inside++
				if dark {
					ink++
				}
			}
		}
	}
	if outside > 0 {
		t.Errorf("%s: %d dark pixels outside the rectangle", filepath.Base(path), outside)
	}
	if ink < inside/50 {
		t.Errorf("%s: %d dark pixels of %d inside the rectangle, want text", filepath.Base(path), ink, inside)
	}
}

// checkUpright reads the word boxes of pdftotext -bbox (in the displayed
// page, y down) and fails unless the words lie in the rectangle and read
// left to right, top to bottom.
func checkUpright(t *testing.T, xhtml string, p placement) {
	t.Helper()
	type box struct{ x1, y1, x2, y2 float64 }
	words := make(map[string]box)
	var all []box
	re := regexp.MustCompile(`<word xMin="([-0-9.]+)" yMin="([-0-9.]+)" xMax="([-0-9.]+)" yMax="([-0-9.]+)">([^<]*)</word>`)
	for _, m := range re.FindAllStringSubmatch(xhtml, -1) {
		var b box
		for i, v := range []*float64{&b.x1, &b.y1, &b.x2, &b.y2} {
			*v, _ = strconv.ParseFloat(m[i+1], 64)
		}
		if _, ok := words[m[5]]; !ok {
			words[m[5]] = b
		}
		all = append(all, b)
	}
	first, second, date := words["Digitally"], words["signed"], words["Date:"]
	if first == (box{}) || second == (box{}) || date == (box{}) {
		t.Fatalf("pdftotext -bbox lacks the words Digitally, signed, Date:\n%s", xhtml)
	}
	if !(first.x2 <= second.x1 && first.y1 < date.y1 && first.x2-first.x1 > first.y2-first.y1) {
		t.Errorf("text is not upright: Digitally %v, signed %v, Date: %v", first, second, date)
	}
	_, h := p.displaySize()
	for _, b := range all {
		if b.x1 < p.rect[0] || b.x2 > p.rect[2] || b.y1 < h-p.rect[3] || b.y2 > h-p.rect[1] {
			t.Errorf("word box %v outside rectangle %v", b, p.rect)
		}
	}
}
