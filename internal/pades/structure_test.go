package pades_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"sello/internal/pades"
	"sello/internal/pdf"
	"sello/internal/pkitest"
)

// classicPDF writes objects 1..n with a classic cross-reference table.
func classicPDF(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// mustSignWithTestKey signs orig with a fresh ECDSA key, visibly at rect
// on page when rect is not nil, and checks that the result verifies with
// one intact signature.
func mustSignWithTestKey(t *testing.T, orig []byte, page int, rect *pades.Rect) []byte {
	t.Helper()
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "Structure CA"})
	signed := mustSign(t, orig, pades.Options{
		Key:  ca.Issue(t, pkitest.Options{CommonName: "Signer", KeyType: pkitest.ECDSAP256}),
		Page: page, Rect: rect, Name: "Signer", Time: goldenTime,
	})
	sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
	if err != nil || len(sigs) != 1 || sigs[0].Err != nil {
		t.Fatalf("Verify = %+v, %v; want one intact signature", sigs, err)
	}
	return signed
}

// pageAnnots returns the /Annots array of page i of a PDF, through a
// reference.
func pageAnnots(t *testing.T, data []byte, i int) pdf.Array {
	t.Helper()
	r, err := pdf.Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Page(i)
	if err != nil {
		t.Fatal(err)
	}
	o, err := r.Resolve(p.Dict["Annots"])
	if err != nil {
		t.Fatal(err)
	}
	arr, _ := o.(pdf.Array)
	return arr
}

// TestSharedAnnotsArray signs a page whose indirect /Annots array another
// page shares: the widget must appear on the signed page only.
func TestSharedAnnotsArray(t *testing.T) {
	t.Parallel()
	orig := classicPDF(
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2/MediaBox[0 0 612 792]>>",
		"<</Type/Page/Parent 2 0 R/Annots 5 0 R>>",
		"<</Type/Page/Parent 2 0 R/Annots 5 0 R>>",
		"[6 0 R]",
		"<</Type/Annot/Subtype/Link/Rect[10 10 50 50]/Border[0 0 0]>>",
	)
	signed := mustSignWithTestKey(t, orig, 0, &pades.Rect{X1: 100, Y1: 100, X2: 300, Y2: 160})
	link := pdf.Ref{Num: 6}
	if got := pageAnnots(t, signed, 0); len(got) != 2 || got[0] != link {
		t.Errorf("page 0 /Annots = %v, want the link and the widget", got)
	}
	if got := pageAnnots(t, signed, 1); !slices.Equal(got, pdf.Array{link}) {
		t.Errorf("page 1 /Annots = %v, want only the link", got)
	}
}

// TestFieldsArrayAsAnnots signs page 1 of a file whose page 0 uses the
// form's indirect /Fields array as its /Annots: the widget must not show
// on page 0.
func TestFieldsArrayAsAnnots(t *testing.T) {
	t.Parallel()
	orig := classicPDF(
		"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields 5 0 R>>>>",
		"<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2/MediaBox[0 0 612 792]>>",
		"<</Type/Page/Parent 2 0 R/Annots 5 0 R>>",
		"<</Type/Page/Parent 2 0 R>>",
		"[6 0 R]",
		"<</Type/Annot/Subtype/Widget/FT/Tx/T(name)/Rect[10 10 200 40]/P 3 0 R>>",
	)
	signed := mustSignWithTestKey(t, orig, 1, &pades.Rect{X1: 100, Y1: 100, X2: 300, Y2: 160})
	if got := pageAnnots(t, signed, 0); !slices.Equal(got, pdf.Array{pdf.Ref{Num: 6}}) {
		t.Errorf("page 0 /Annots = %v, want only its text field", got)
	}
}

// TestDocMDPIndirect reads a certification's permissions when its values
// are indirect references: P=1 is refused, P=2 signs.
func TestDocMDPIndirect(t *testing.T) {
	t.Parallel()
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "DocMDP CA"})
	key := ca.Issue(t, pkitest.Options{CommonName: "Signer", KeyType: pkitest.ECDSAP256})
	for _, tc := range []struct {
		p    string
		want error
	}{{"1", pades.ErrCertified}, {"2", nil}} {
		t.Run("P="+tc.p, func(t *testing.T) {
			t.Parallel()
			orig := classicPDF(
				"<</Type/Catalog/Pages 2 0 R/Perms<</DocMDP 4 0 R>>>>",
				"<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 612 792]>>",
				"<</Type/Page/Parent 2 0 R>>",
				"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/Reference[<</Type/SigRef/TransformMethod 5 0 R/TransformParams<</Type/TransformParams/P 6 0 R/V/1.2>>>>]>>",
				"/DocMDP",
				tc.p,
			)
			_, err := pades.Sign(t.Context(), bytes.NewReader(orig), int64(len(orig)), pades.Options{Key: key, Name: "Signer", Time: goldenTime})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Sign = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestFieldNamesUnique reads the names of existing fields written as
// hexadecimal strings or through indirect references, and names the new
// field after all of them.
func TestFieldNamesUnique(t *testing.T) {
	t.Parallel()
	orig := classicPDF(
		"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R]/SigFlags 6 0 R>>>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 612 792]>>",
		"<</Type/Page/Parent 2 0 R>>",
		"<</FT/Tx/T<5369676E617475726531>>>", // "Signature1"
		"<</FT/Tx/T 7 0 R>>",
		"1",
		"(Signature2)",
	)
	signed := mustSignWithTestKey(t, orig, 0, nil)
	sigs, err := pades.Verify(bytes.NewReader(signed), int64(len(signed)))
	if err != nil {
		t.Fatal(err)
	}
	if sigs[0].Field != "Signature3" {
		t.Errorf("new field is %q, want Signature3", sigs[0].Field)
	}
}

// TestOddRotate refuses to place a stamp on a page whose /Rotate is not a
// multiple of 90, which viewers show differently; an invisible signature
// needs no placement and signs.
func TestOddRotate(t *testing.T) {
	t.Parallel()
	orig := classicPDF(
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 612 792]>>",
		"<</Type/Page/Parent 2 0 R/Rotate 45>>",
	)
	ca := pkitest.NewCA(t, pkitest.Options{CommonName: "Rotate CA"})
	key := ca.Issue(t, pkitest.Options{CommonName: "Signer", KeyType: pkitest.ECDSAP256})
	_, err := pades.Sign(t.Context(), bytes.NewReader(orig), int64(len(orig)), pades.Options{
		Key: key, Rect: &pades.Rect{X1: 100, Y1: 100, X2: 300, Y2: 160}, Name: "Signer", Time: goldenTime,
	})
	if !errors.Is(err, pades.ErrOddRotate) {
		t.Errorf("visible Sign = %v, want %v", err, pades.ErrOddRotate)
	}
	mustSignWithTestKey(t, orig, 0, nil)
}
