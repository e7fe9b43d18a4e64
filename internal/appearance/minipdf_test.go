package appearance

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"

	"sello/internal/pdf"
)

// testDoc collects the objects Build adds and writes them, with a page
// around them, as a small PDF file. It stands in for the incremental writer
// of package pdf.
type testDoc struct {
	objs []pdf.Object
}

func (d *testDoc) Add(obj pdf.Object) pdf.Ref {
	d.objs = append(d.objs, obj)
	return pdf.Ref{Num: uint32(len(d.objs))}
}

// get returns the object r refers to.
func (d *testDoc) get(t *testing.T, r pdf.Ref) pdf.Object {
	t.Helper()
	if r.Num == 0 || int(r.Num) > len(d.objs) || r.Gen != 0 {
		t.Fatalf("reference %v was not added", r)
	}
	return d.objs[r.Num-1]
}

// stream returns the stream r refers to and its decoded data.
func (d *testDoc) stream(t *testing.T, r pdf.Ref) (*pdf.Stream, []byte) {
	t.Helper()
	s, ok := d.get(t, r).(*pdf.Stream)
	if !ok {
		t.Fatalf("object %v is %T, want *pdf.Stream", r, d.get(t, r))
	}
	switch s.Dict["Filter"] {
	case nil:
		if len(s.Raw) > minDeflate {
			t.Fatalf("stream %v of %d bytes is not compressed", r, len(s.Raw))
		}
		return s, s.Raw
	case pdf.Name("FlateDecode"):
	default:
		t.Fatalf("stream %v has /Filter %v, want none or /FlateDecode", r, s.Dict["Filter"])
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.Raw))
	if err != nil {
		t.Fatalf("stream %v: %v", r, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("stream %v: %v", r, err)
	}
	return s, data
}

// placement says where a test puts the appearance on its page.
type placement struct {
	mediaBox [4]float64 // the page's MediaBox in user space
	rotate   int        // the page's /Rotate
	rect     [4]float64 // llx, lly, urx, ury as the reader sees the page
	// content draws the form from the page's content stream with Do
	// instead of through a widget annotation.
	content bool
}

// displaySize returns the page size as the reader sees it.
func (p placement) displaySize() (w, h float64) {
	w, h = p.mediaBox[2]-p.mediaBox[0], p.mediaBox[3]-p.mediaBox[1]
	if p.rotate == 90 || p.rotate == 270 {
		return h, w
	}
	return w, h
}

// userRect converts the displayed rectangle to the page's user space, as
// the signing code does for the widget's /Rect: the page shows its user
// space turned clockwise by /Rotate (ISO 32000-2 §7.7.3.3).
func (p placement) userRect() [4]float64 {
	llx, lly := p.mediaBox[0], p.mediaBox[1]
	w, h := p.mediaBox[2]-llx, p.mediaBox[3]-lly
	conv := func(dx, dy float64) (float64, float64) {
		switch p.rotate {
		case 90:
			return llx + w - dy, lly + dx
		case 180:
			return llx + w - dx, lly + h - dy
		case 270:
			return llx + dy, lly + h - dx
		}
		return llx + dx, lly + dy
	}
	x1, y1 := conv(p.rect[0], p.rect[1])
	x2, y2 := conv(p.rect[2], p.rect[3])
	return [4]float64{min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)}
}

// mustPagePDF writes a one-page PDF whose page shows the appearance form
// at p, through the widget of a signature field or from its content stream.
func (d *testDoc) mustPagePDF(t *testing.T, form pdf.Ref, p placement) []byte {
	t.Helper()
	r := p.userRect()
	n := uint32(len(d.objs))
	catalog, pages, page, widget := pdf.Ref{Num: n + 1}, pdf.Ref{Num: n + 2}, pdf.Ref{Num: n + 3}, pdf.Ref{Num: n + 4}
	contents := pdf.Ref{Num: n + 5}
	box := pdf.Array{pdf.Real(p.mediaBox[0]), pdf.Real(p.mediaBox[1]), pdf.Real(p.mediaBox[2]), pdf.Real(p.mediaBox[3])}
	pageDict := pdf.Dict{
		"Type": pdf.Name("Page"), "Parent": pages, "MediaBox": box,
		"Rotate": pdf.Integer(p.rotate), "Resources": pdf.Dict{},
		"Annots": pdf.Array{widget},
	}
	var draw []byte
	if p.content {
		// The form's /Matrix maps its /BBox onto [0 0 w h] of user space,
		// so moving it to the rectangle's corner places it (§8.10.1).
		pageDict["Annots"] = nil
		pageDict["Resources"] = pdf.Dict{"XObject": pdf.Dict{"X0": form}}
		pageDict["Contents"] = contents
		draw = fmt.Appendf(nil, "q 1 0 0 1 %g %g cm /X0 Do Q\n", r[0], r[1])
	}
	objs := slices.Clone(d.objs)
	objs = append(objs,
		pdf.Dict{"Type": pdf.Name("Catalog"), "Pages": pages, "AcroForm": pdf.Dict{
			"Fields": pdf.Array{widget}, "SigFlags": pdf.Integer(1),
		}},
		pdf.Dict{"Type": pdf.Name("Pages"), "Kids": pdf.Array{page}, "Count": pdf.Integer(1)},
		pageDict,
		pdf.Dict{
			"Type": pdf.Name("Annot"), "Subtype": pdf.Name("Widget"), "FT": pdf.Name("Sig"),
			"T": pdf.String("Signature1"), "F": pdf.Integer(4), "P": page,
			// A value, as a signed field has: some renderers draw their own
			// placeholder for an unsigned signature field.
			"V": pdf.Dict{
				"Type": pdf.Name("Sig"), "Filter": pdf.Name("Adobe.PPKLite"),
				"SubFilter": pdf.Name("ETSI.CAdES.detached"),
				"ByteRange": pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)},
				"Contents":  pdf.HexString{0},
			},
			"Rect": pdf.Array{pdf.Real(r[0]), pdf.Real(r[1]), pdf.Real(r[2]), pdf.Real(r[3])},
			"AP":   pdf.Dict{"N": form},
		},
		&pdf.Stream{Dict: pdf.Dict{}, Raw: draw},
	)
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		writeObject(&b, o)
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, catalog.Num, xref)
	return b.Bytes()
}

// writeObject serializes o in PDF syntax (ISO 32000-2 §7.3).
func writeObject(b *bytes.Buffer, o pdf.Object) {
	switch v := o.(type) {
	case nil:
		b.WriteString("null")
	case pdf.Bool:
		b.WriteString(strconv.FormatBool(bool(v)))
	case pdf.Integer:
		b.WriteString(strconv.FormatInt(int64(v), 10))
	case pdf.Real:
		b.WriteString(strconv.FormatFloat(float64(v), 'f', -1, 64))
	case pdf.String:
		b.WriteByte('(')
		for _, c := range v {
			if c == '(' || c == ')' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte(')')
	case pdf.HexString:
		fmt.Fprintf(b, "<%X>", []byte(v))
	case pdf.Name:
		b.WriteByte('/')
		for _, c := range []byte(v) {
			if c < '!' || c > '~' || bytes.IndexByte([]byte("#()<>[]{}/%"), c) >= 0 {
				fmt.Fprintf(b, "#%02X", c)
				continue
			}
			b.WriteByte(c)
		}
	case pdf.Array:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeObject(b, e)
		}
		b.WriteByte(']')
	case pdf.Dict:
		keys := make([]pdf.Name, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("<<")
		for _, k := range keys {
			if v[k] == nil {
				continue
			}
			writeObject(b, k)
			b.WriteByte(' ')
			writeObject(b, v[k])
		}
		b.WriteString(">>")
	case *pdf.Stream:
		d := pdf.Dict{"Length": pdf.Integer(len(v.Raw))}
		for k, e := range v.Dict {
			if k != "Length" {
				d[k] = e
			}
		}
		writeObject(b, d)
		b.WriteString("\nstream\n")
		b.Write(v.Raw)
		b.WriteString("\nendstream")
	case pdf.Ref:
		fmt.Fprintf(b, "%d %d R", v.Num, v.Gen)
	default:
		panic(fmt.Sprintf("writeObject: unexpected %T", o))
	}
}
