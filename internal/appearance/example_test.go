package appearance_test

import (
	"fmt"
	"time"

	"sello/internal/appearance"
	"sello/internal/pdf"
)

// objects is an Adder that keeps what it is given, as the incremental
// writer of package pdf does.
type objects []pdf.Object

func (o *objects) Add(obj pdf.Object) pdf.Ref {
	*o = append(*o, obj)
	return pdf.Ref{Num: uint32(len(*o))}
}

func ExampleBuild() {
	var doc objects
	ap, err := appearance.Build(&doc, appearance.Options{
		Width: 220, Height: 70, // as the reader sees the page
		Rotate:         90, // the page's /Rotate
		Name:           "José Núñez",
		Identification: "CC 1020304050",
		Time:           time.Date(2026, 12, 4, 21, 15, 3, 0, time.FixedZone("", -5*3600)),
		Reason:         "Aprobación del contrato",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	form := doc[ap.Num-1].(*pdf.Stream)
	fmt.Println("BBox", form.Dict["BBox"], "Matrix", form.Dict["Matrix"])
	fmt.Println("objects added:", len(doc))
	// Output:
	// BBox [0 0 220 70] Matrix [0 1 -1 0 70 0]
	// objects added: 2
}
