package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func deflate(b []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// streamDoc makes a document whose object 4 is a stream with the given
// dictionary entries and raw data.
func streamDoc(dict string, raw []byte) []byte {
	objs := append([]testObj(nil), basicObjs...)
	objs[3] = testObj{num: 4, body: "<<" + dict + "/Length " + itoa(len(raw)) + ">>\nstream\n" + string(raw) + "\nendstream"}
	data, _ := buildPDF(testRev{objs: objs, trailer: "/Root 1 0 R"})
	return data
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestStreamFilters(t *testing.T) {
	t.Parallel()
	rows := []byte{1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60, 7, 7, 7, 7, 7, 7}
	// Each PNG row encoded with a different filter type, 3 columns of 2 colors.
	png := []byte{
		0, 1, 2, 3, 4, 5, 6, // None
		1, 10, 20, 20, 20, 20, 20, // Sub (bpp 2)
		3, 2, 253, 245, 240, 235, 230, // Average
	}
	// Paeth on a first row (no row above) predicts from the left.
	paeth := []byte{4, 5, 4, 5, 4, 5, 4}
	tiff := []byte{1, 2, 2, 2, 2, 2, 10, 20, 20, 20, 20, 20}
	tests := []struct {
		name string
		dict string
		raw  []byte
		want []byte
	}{
		{"no filter", "", []byte("plain"), []byte("plain")},
		{"flate", "/Filter/FlateDecode", deflate([]byte("hello flate")), []byte("hello flate")},
		{"flate in array", "/Filter[/FlateDecode]/DecodeParms[null]", deflate([]byte("x")), []byte("x")},
		{"flate twice", "/Filter[/FlateDecode/Fl]", deflate(deflate([]byte("twice"))), []byte("twice")},
		{"png up", "/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 6>>", pngUp(rows, 6)[0:], rows},
		{"png mixed", "/Filter/FlateDecode/DecodeParms<</Predictor 15/Colors 2/Columns 3>>", deflate(png), rows},
		{"png paeth", "/Filter/FlateDecode/DecodeParms<</Predictor 14/Colors 1/Columns 6>>", deflate(paeth), []byte{5, 9, 14, 18, 23, 27}},
		{"tiff", "/Filter/FlateDecode/DecodeParms<</Predictor 2/Colors 1/Columns 6>>", deflate(tiff), []byte{1, 3, 5, 7, 9, 11, 10, 30, 50, 70, 90, 110}},
		{"truncated checksum kept", "/Filter/FlateDecode", deflate([]byte("almost"))[:len(deflate([]byte("almost")))-2], []byte("almost")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustOpen(t, streamDoc(tc.dict, tc.raw))
			o, err := r.Get(Ref{4, 0})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.StreamData(o.(*Stream))
			if err != nil {
				t.Fatalf("StreamData() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("StreamData() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamFilterErrors(t *testing.T) {
	t.Parallel()
	bomb := deflate(make([]byte, 4<<20))
	tests := []struct {
		name string
		dict string
		raw  []byte
		opts Options
		want error
	}{
		{"unsupported filter", "/Filter/DCTDecode", []byte("jpeg"), Options{}, ErrUnsupportedFilter},
		{"unsupported predictor", "/Filter/FlateDecode/DecodeParms<</Predictor 7>>", deflate([]byte("x")), Options{}, ErrUnsupportedFilter},
		{"bad PNG row tag", "/Filter/FlateDecode/DecodeParms<</Predictor 10/Columns 1>>", deflate([]byte{9, 1}), Options{}, ErrUnsupportedFilter},
		{"too many filters", "/Filter[/Fl/Fl/Fl/Fl/Fl/Fl/Fl/Fl/Fl]", deflate([]byte("x")), Options{}, ErrLimit},
		{"decoded size", "/Filter/FlateDecode", bomb, Options{MaxDecodedStream: 1 << 20}, ErrLimit},
		{"decompression ratio", "/Filter/FlateDecode", bomb, Options{MaxDecodeRatio: 100}, ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := streamDoc(tc.dict, tc.raw)
			r, err := Open(bytes.NewReader(data), int64(len(data)), &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			o, err := r.Get(Ref{4, 0})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.StreamData(o.(*Stream)); !errors.Is(err, tc.want) {
				t.Errorf("StreamData() error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	big := "(" + strings.Repeat("x", 100<<10) + ")"
	tests := []struct {
		name string
		obj  string
		opts Options
		want error
	}{
		{"nesting", deep, Options{}, ErrLimit},
		{"object size", big, Options{MaxObjectBytes: 64 << 10}, ErrLimit},
		{"big object fits", big, Options{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := append(append([]testObj(nil), basicObjs...), testObj{num: 5, body: tc.obj})
			data, _ := buildPDF(testRev{objs: objs, trailer: "/Root 1 0 R"})
			r, err := Open(bytes.NewReader(data), int64(len(data)), &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Get(Ref{5, 0}); !errors.Is(err, tc.want) {
				t.Errorf("Get() error = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("xref entries", func(t *testing.T) {
		t.Parallel()
		// 1,000,000 one-byte entries deflate to about a kilobyte.
		rows := deflate(make([]byte, 1000000))
		var b bytes.Buffer
		b.WriteString("%PDF-1.7\n")
		start := b.Len()
		fmt.Fprintf(&b, "1 0 obj\n<</Type/XRef/Size 1000000/W[1 0 0]/Filter/FlateDecode/Length %d>>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", len(rows), rows, start)
		if _, err := Open(bytes.NewReader(b.Bytes()), int64(b.Len()), nil); !errors.Is(err, ErrLimit) {
			t.Errorf("Open() error = %v, want ErrLimit", err)
		}
	})
	t.Run("xref sections", func(t *testing.T) {
		t.Parallel()
		revs := []testRev{{objs: basicObjs, trailer: "/Root 1 0 R"}}
		for range 10 {
			revs = append(revs, testRev{objs: []testObj{{num: 5, body: "1"}}, trailer: "/Root 1 0 R"})
		}
		data, _ := buildPDF(revs...)
		if _, err := Open(bytes.NewReader(data), int64(len(data)), &Options{MaxXRefSections: 5}); !errors.Is(err, ErrLimit) {
			t.Errorf("Open() error = %v, want ErrLimit", err)
		}
		r := mustOpen(t, data)
		if o, err := r.Get(Ref{5, 0}); err != nil || o != Integer(1) {
			t.Errorf("Get(5 0 R) = %v, %v", o, err)
		}
	})
}
