package appearance

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"sello/internal/pdf"
)

// ErrInvalidOptions reports options that cannot make an appearance: a box
// without area or not finite, a rotation that is not a multiple of 90, or no
// signing time. Build wraps it with the offending value.
var ErrInvalidOptions = errors.New("appearance: invalid options")

// MinSide and MaxSide bound the box sides Build accepts, in points. MaxSide
// is the largest page side ISO 32000-2 Annex C allows at the default user
// unit; MinSide keeps the box visible at the precision numbers are written.
const (
	MinSide = 0.01
	MaxSide = 14400
)

// Adder adds objects to a document being written and returns their
// references. The incremental writer of package pdf satisfies it.
type Adder interface {
	Add(obj pdf.Object) pdf.Ref
}

// Options describes what a signature appearance shows and the box it fills.
type Options struct {
	// Width and Height are the size of the box as the reader sees it (after
	// the page's rotation), in points.
	Width, Height float64
	// Rotate is the page's /Rotate, a multiple of 90 (negative values and
	// values past 270 are reduced modulo 360). The appearance is turned so
	// that it reads upright on the displayed page.
	Rotate int
	// Name is the signer's name, shown as "Digitally signed by <Name>".
	Name string
	// Identification is the signer's identification, for example
	// "CC 1020304050"; empty leaves its line out.
	Identification string
	// Time is the signing time, shown with date, time and zone offset as
	// "Date: 2026-12-04 21:15:03 -05:00" in its own location. It must not be
	// zero.
	Time time.Time
	// Reason and Location are optional; each non-empty one adds a line
	// "Reason: ..." or "Location: ...".
	Reason, Location string
}

// Build adds to a the objects of a signature appearance (ISO 32000-2
// §12.5.5) and returns the reference of its Form XObject, to be used as the
// /N entry of the widget's /AP dictionary.
//
// The form's /BBox is [0 0 Width Height] in the reader's orientation and its
// /Matrix turns it by the page rotation, so a widget whose /Rect is the box
// in the page's user space shows the text upright. The text is drawn in
// standard Helvetica with WinAnsiEncoding when every character has a code
// there, and otherwise in an embedded subset of the Go Regular TrueType font
// (a Type0 font with Identity-H encoding and a /ToUnicode CMap); characters
// neither font has are shown as "?". The font size is the largest (up to
// 14 pt) at which all lines, wrapped at spaces if that helps, fit inside the
// border; when the box is too small for any text only the border is drawn.
//
// Build returns an error wrapping [ErrInvalidOptions] when opts cannot be
// drawn; a is then left untouched. It is safe for concurrent use. Callers
// that build many appearances should use a shared [Builder], which gives
// the same result with fewer allocations.
func Build(a Adder, opts Options) (pdf.Ref, error) {
	var b Builder
	return b.Build(a, opts)
}

// minDeflate is the size from which a content stream is compressed.
const minDeflate = 1024

// Builder builds appearances like [Build], keeping its compressors for
// reuse between calls. The zero value is ready to use, and a Builder is
// safe for concurrent use.
type Builder struct {
	writers sync.Pool // of *zlib.Writer
	text    *trueType // for what Helvetica cannot show; nil: Go Regular
}

// NewBuilder returns a Builder that draws the text standard Helvetica
// cannot show with the TrueType font ttf (outlines in a 'glyf' table),
// embedded as a subset, instead of the built-in Go Regular. Go Regular
// covers Latin-1 and Latin Extended-A; a font such as DejaVu Sans also
// covers Vietnamese, Ə and the rest of Latin Extended-B and Additional.
// The font must map Unicode characters and have Latin letters.
func NewBuilder(ttf []byte) (*Builder, error) {
	f, err := parseTextFont(ttf)
	if err != nil {
		return nil, err
	}
	return &Builder{text: f}, nil
}

// Build is the function [Build], reusing b's resources.
func (b *Builder) Build(a Adder, opts Options) (pdf.Ref, error) {
	rotate, err := opts.check()
	if err != nil {
		return pdf.Ref{}, err
	}
	f, l, err := fitStamp(b.text, opts.lines(), opts.Width, opts.Height)
	if err != nil {
		return pdf.Ref{}, err
	}

	zw, _ := b.writers.Get().(*zlib.Writer)
	if zw == nil {
		zw = zlib.NewWriter(nil)
	}
	defer b.writers.Put(zw)
	z := deflater{zw}
	// A content stream of a few hundred bytes gains little from Flate and
	// costs a compressor reset; only longer ones are compressed.
	content := l.content(f, opts.Width, opts.Height)
	var filter pdf.Object
	if len(content) > minDeflate {
		if content, err = z.deflate(content); err != nil {
			return pdf.Ref{}, err
		}
		filter = pdf.Name("FlateDecode")
	}
	fontRef, err := f.add(a, z)
	if err != nil {
		return pdf.Ref{}, err
	}
	form := &pdf.Stream{
		Dict: pdf.Dict{
			"Type":     pdf.Name("XObject"),
			"Subtype":  pdf.Name("Form"),
			"FormType": pdf.Integer(1),
			"BBox":     pdf.Array{pdf.Integer(0), pdf.Integer(0), number(opts.Width), number(opts.Height)},
			"Matrix":   matrix(rotate, opts.Width, opts.Height),
			"Resources": pdf.Dict{
				"Font":    pdf.Dict{fontName: fontRef},
				"ProcSet": pdf.Array{pdf.Name("PDF"), pdf.Name("Text")},
			},
			"Filter": filter,
		},
		Raw: content,
	}
	return a.Add(form), nil
}

// check validates opts and returns the rotation reduced to 0, 90, 180 or
// 270.
func (o *Options) check() (int, error) {
	for _, v := range []float64{o.Width, o.Height} {
		if math.IsNaN(v) || v < MinSide || v > MaxSide {
			return 0, fmt.Errorf("%w: box %vx%v pt, want sides in [%v, %v]", ErrInvalidOptions, o.Width, o.Height, MinSide, MaxSide)
		}
	}
	if o.Rotate%90 != 0 {
		return 0, fmt.Errorf("%w: rotation %d is not a multiple of 90", ErrInvalidOptions, o.Rotate)
	}
	if o.Time.IsZero() {
		return 0, fmt.Errorf("%w: no signing time", ErrInvalidOptions)
	}
	return (o.Rotate%360 + 360) % 360, nil
}

// lines returns the text lines of the appearance, cleaned for display.
func (o *Options) lines() []string {
	lines := []string{strings.TrimSpace("Digitally signed by " + clean(o.Name))}
	if id := clean(o.Identification); id != "" {
		lines = append(lines, id)
	}
	lines = append(lines, "Date: "+o.Time.Format("2006-01-02 15:04:05 -07:00"))
	if r := clean(o.Reason); r != "" {
		lines = append(lines, "Reason: "+r)
	}
	if l := clean(o.Location); l != "" {
		lines = append(lines, "Location: "+l)
	}
	return lines
}

// matrix returns the form matrix for a page rotation: it turns the box,
// drawn upright in [0 0 w h], counterclockwise by the rotation, which the
// page then turns back clockwise when displayed (ISO 32000-2 §7.7.3.3), and
// moves the result back into the positive quadrant.
func matrix(rotate int, w, h float64) pdf.Array {
	var m [6]float64
	switch rotate {
	case 90:
		m = [6]float64{0, 1, -1, 0, h, 0}
	case 180:
		m = [6]float64{-1, 0, 0, -1, w, h}
	case 270:
		m = [6]float64{0, -1, 1, 0, 0, w}
	default:
		m = [6]float64{1, 0, 0, 1, 0, 0}
	}
	arr := make(pdf.Array, len(m))
	for i, v := range m {
		arr[i] = number(v)
	}
	return arr
}

// number returns v as a PDF integer when it is whole, else as a real
// rounded to the precision the content stream uses.
func number(v float64) pdf.Object {
	v = round(v)
	if v == math.Trunc(v) {
		return pdf.Integer(v)
	}
	return pdf.Real(v)
}

// deflater compresses stream data for /Filter /FlateDecode (ISO 32000-2
// §7.4.4: the zlib format of RFC 1950) with one reusable writer.
type deflater struct {
	zw *zlib.Writer
}

// deflate returns data compressed, in a new slice.
func (d deflater) deflate(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 64)
	d.zw.Reset(&buf)
	if _, err := d.zw.Write(data); err != nil {
		return nil, fmt.Errorf("compress stream: %w", err)
	}
	if err := d.zw.Close(); err != nil {
		return nil, fmt.Errorf("compress stream: %w", err)
	}
	return buf.Bytes(), nil
}
