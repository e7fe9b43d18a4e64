package pdf

import (
	"slices"
	"testing"
)

// TestUpdateKeepsNumbers copies numbers read from a file into an update and
// reads them back: a real stays a real with every digit, an integer stays
// an integer, and computed float64 values are written in their shortest
// form.
func TestUpdateKeepsNumbers(t *testing.T) {
	t.Parallel()
	orig, _ := buildPDF(testRev{objs: []testObj{
		{num: 1, body: "<</Type/Catalog/Pages 2 0 R>>"},
		{num: 2, body: "<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 612 792]>>"},
		{num: 3, body: "<</Type/Page/Parent 2 0 R/Rotate 90.0/UserUnit 1.00000012/CropBox[0.5 -0.0000001 595.2756 841.889764]/Count 7>>"},
	}, trailer: "/Root 1 0 R"})
	r := mustOpen(t, orig)
	page, err := r.Get(Ref{3, 0})
	if err != nil {
		t.Fatal(err)
	}
	d := copyDictForTest(page.(Dict))
	d["Computed"] = Array{300.0, 12.5, 1.0 / 3}
	u := NewUpdate(r)
	u.Set(Ref{3, 0}, d)
	upd, err := u.Bytes()
	if err != nil {
		t.Fatalf("Bytes() = %v", err)
	}
	got, err := mustOpen(t, append(slices.Clone(orig), upd...)).Get(Ref{3, 0})
	if err != nil {
		t.Fatal(err)
	}
	gd := got.(Dict)
	for _, key := range []Name{"Rotate", "UserUnit", "CropBox", "Count"} {
		if !equalObjects(gd[key], page.(Dict)[key]) {
			t.Errorf("/%s = %T %v after the update, want %T %v", key, gd[key], gd[key], page.(Dict)[key], page.(Dict)[key])
		}
	}
	want := Array{Integer(300), Real(12.5), Real(0.333333)}
	if !equalObjects(gd["Computed"], want) {
		t.Errorf("/Computed = %#v, want %#v", gd["Computed"], want)
	}
}

func copyDictForTest(d Dict) Dict {
	c := make(Dict, len(d)+1)
	for k, v := range d {
		c[k] = v
	}
	return c
}

// equalObjects compares numbers and arrays of numbers by type and value.
func equalObjects(a, b Object) bool {
	if aa, ok := a.(Array); ok {
		ba, ok := b.(Array)
		return ok && slices.EqualFunc(aa, ba, equalObjects)
	}
	return a == b
}
