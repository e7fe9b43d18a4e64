package pdf

import (
	"fmt"
	"math"
)

// Rectangle is a PDF rectangle (ISO 32000-2 §7.9.5), normalised so that
// LLX <= URX and LLY <= URY.
type Rectangle struct{ LLX, LLY, URX, URY float64 }

// Width returns URX-LLX.
func (r Rectangle) Width() float64 { return r.URX - r.LLX }

// Height returns URY-LLY.
func (r Rectangle) Height() float64 { return r.URY - r.LLY }

// intersect returns the common part of r and o, and whether it has an area.
func (r Rectangle) intersect(o Rectangle) (Rectangle, bool) {
	x := Rectangle{
		LLX: math.Max(r.LLX, o.LLX), LLY: math.Max(r.LLY, o.LLY),
		URX: math.Min(r.URX, o.URX), URY: math.Min(r.URY, o.URY),
	}
	return x, x.LLX < x.URX && x.LLY < x.URY
}

// Page is one page with its attributes resolved through the page tree
// (ISO 32000-2 §7.7.3.4).
type Page struct {
	Ref      Ref       // the page object
	Dict     Dict      // the page's own dictionary (shared with the cache: do not modify)
	MediaBox Rectangle // inherited when absent; US Letter when missing everywhere
	CropBox  Rectangle // inherited; defaults to MediaBox; intersected with MediaBox
	Rotate   int       // inherited; normalised to 0, 90, 180 or 270
	// OddRotate is the page's /Rotate when it is an integer but not a
	// multiple of 90 (Rotate is then 0); viewers disagree on how such a
	// page is shown. Zero otherwise.
	OddRotate int64
	Resources Object // inherited; may be a Ref; nil when absent everywhere
}

// letter is the media box viewers assume when a page has none.
var letter = Rectangle{0, 0, 612, 792}

// pagesRoot returns the root of the page tree.
func (r *Reader) pagesRoot() (Ref, Dict, error) {
	cat, err := r.Catalog()
	if err != nil {
		return Ref{}, nil, err
	}
	ref, _ := cat["Pages"].(Ref)
	o, err := r.Resolve(cat["Pages"])
	if err != nil {
		return Ref{}, nil, fmt.Errorf("read page tree: %w", err)
	}
	d, ok := o.(Dict)
	if !ok {
		return Ref{}, nil, fmt.Errorf("%w: catalog /Pages is not a dictionary", ErrDamaged)
	}
	return ref, d, nil
}

// NumPages returns the /Count of the root of the page tree.
func (r *Reader) NumPages() (int, error) {
	_, root, err := r.pagesRoot()
	if err != nil {
		return 0, err
	}
	n, err := r.Resolve(root["Count"])
	if err != nil {
		return 0, err
	}
	c, ok := n.(Integer)
	if !ok || c < 0 || c > maxObjectNumber {
		return 0, fmt.Errorf("%w: bad /Count in the page tree root", ErrDamaged)
	}
	return int(c), nil
}

// isPagesNode reports an intermediate node of the page tree: /Type /Pages,
// or no /Type but a /Kids array.
func isPagesNode(d Dict) bool {
	if t, ok := d["Type"].(Name); ok {
		return t == "Pages"
	}
	_, ok := d["Kids"]
	return ok
}

// Page returns page i (zero-based). It walks only the path from the root to
// the page, skipping subtrees by their /Count, and collects the inherited
// attributes on the way. An index out of range gives an error wrapping
// ErrPageRange.
func (r *Reader) Page(i int) (*Page, error) {
	n, err := r.NumPages()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= n {
		return nil, fmt.Errorf("%w: page %d of %d", ErrPageRange, i, n)
	}
	ref, node, err := r.pagesRoot()
	if err != nil {
		return nil, err
	}
	var inh struct{ media, crop, rotate, resources Object }
	seen := map[Ref]bool{ref: true}
	for depth := 0; ; depth++ {
		if depth > r.opts.MaxDepth {
			return nil, fmt.Errorf("%w: page tree deeper than %d", ErrLimit, r.opts.MaxDepth)
		}
		if v, ok := node["MediaBox"]; ok {
			inh.media = v
		}
		if v, ok := node["CropBox"]; ok {
			inh.crop = v
		}
		if v, ok := node["Rotate"]; ok {
			// /Rotate is an integer (ISO 32000-2 Table 31). Readers that
			// check its type skip any other value and keep the inherited
			// one; so do we, so that the stamp lands where they show it.
			v, err := r.Resolve(v)
			if err != nil {
				return nil, err
			}
			// Values beyond 32 bits are not integers to those readers.
			if n, isInt := v.(Integer); isInt && n >= math.MinInt32 && n <= math.MaxInt32 {
				inh.rotate = v
			}
		}
		if v, ok := node["Resources"]; ok {
			inh.resources = v
		}
		if !isPagesNode(node) {
			if i != 0 {
				return nil, fmt.Errorf("%w: page tree /Count does not match its pages", ErrDamaged)
			}
			return r.newPage(ref, node, inh.media, inh.crop, inh.rotate, inh.resources)
		}
		kidsObj, err := r.Resolve(node["Kids"])
		if err != nil {
			return nil, err
		}
		kids, _ := kidsObj.(Array)
		nextRef, next, rest, err := r.pickKid(node, kids, i)
		if err != nil {
			return nil, err
		}
		if seen[nextRef] {
			return nil, fmt.Errorf("%w: loop in the page tree at object %d", ErrDamaged, nextRef.Num)
		}
		seen[nextRef] = true
		ref, node, i = nextRef, next, rest
	}
}

// pickKid finds the kid of a Pages node that holds page i of its subtree,
// and the index of the page within that kid. When the node's /Count equals
// its number of kids, every kid should be a page and kid i is tried first;
// otherwise kids are skipped by their /Count.
func (r *Reader) pickKid(node Dict, kids Array, i int) (Ref, Dict, int, error) {
	if c, ok := node["Count"].(Integer); ok && int(c) == len(kids) && i < len(kids) {
		if ref, d, err := r.kid(kids[i]); err == nil && !isPagesNode(d) {
			return ref, d, 0, nil
		}
	}
	for _, k := range kids {
		ref, d, err := r.kid(k)
		if err != nil {
			return Ref{}, nil, 0, err
		}
		count := 1
		if isPagesNode(d) {
			c, err := r.Resolve(d["Count"])
			if err != nil {
				return Ref{}, nil, 0, err
			}
			ci, ok := c.(Integer)
			if !ok || ci < 0 {
				return Ref{}, nil, 0, fmt.Errorf("%w: page tree node %d without a valid /Count", ErrDamaged, ref.Num)
			}
			count = int(ci)
		}
		if i < count {
			return ref, d, i, nil
		}
		i -= count
	}
	return Ref{}, nil, 0, fmt.Errorf("%w: page tree /Count does not match its kids", ErrDamaged)
}

// kid resolves one entry of /Kids, which must be a reference to a
// dictionary.
func (r *Reader) kid(k Object) (Ref, Dict, error) {
	ref, ok := k.(Ref)
	if !ok {
		return Ref{}, nil, fmt.Errorf("%w: page tree /Kids entry is not a reference", ErrDamaged)
	}
	o, err := r.Get(ref)
	if err != nil {
		return Ref{}, nil, err
	}
	d, ok := o.(Dict)
	if !ok {
		return Ref{}, nil, fmt.Errorf("%w: page tree kid %d is not a dictionary", ErrDamaged, ref.Num)
	}
	return ref, d, nil
}

func (r *Reader) newPage(ref Ref, d Dict, media, crop, rotate, resources Object) (*Page, error) {
	p := &Page{Ref: ref, Dict: d, Resources: resources, MediaBox: letter}
	if media != nil {
		mb, err := r.rectangle(media)
		if err != nil {
			return nil, fmt.Errorf("page object %d: /MediaBox: %w", ref.Num, err)
		}
		p.MediaBox = mb
	}
	p.CropBox = p.MediaBox
	if crop != nil {
		cb, err := r.rectangle(crop)
		if err != nil {
			return nil, fmt.Errorf("page object %d: /CropBox: %w", ref.Num, err)
		}
		if x, ok := cb.intersect(p.MediaBox); ok {
			p.CropBox = x
		}
	}
	if rotate != nil {
		ro, err := r.Resolve(rotate)
		if err != nil {
			return nil, err
		}
		// /Rotate must be a multiple of 90 (ISO 32000-2 Table 31); poppler
		// shows a page with any other value unrotated, mupdf rounds it.
		if deg, _ := ro.(Integer); deg%90 == 0 {
			q := int64(deg/90) % 4
			if q < 0 {
				q += 4
			}
			p.Rotate = int(q) * 90
		} else {
			p.OddRotate = int64(deg)
		}
	}
	return p, nil
}

// rectangle reads a rectangle array and normalises it.
func (r *Reader) rectangle(o Object) (Rectangle, error) {
	o, err := r.Resolve(o)
	if err != nil {
		return Rectangle{}, err
	}
	a, ok := o.(Array)
	if !ok || len(a) != 4 {
		return Rectangle{}, fmt.Errorf("%w: rectangle is not an array of 4 numbers", ErrDamaged)
	}
	var v [4]float64
	for k, x := range a {
		x, err := r.Resolve(x)
		if err != nil {
			return Rectangle{}, err
		}
		f, ok := number(x)
		if !ok {
			return Rectangle{}, fmt.Errorf("%w: rectangle is not an array of 4 numbers", ErrDamaged)
		}
		v[k] = f
	}
	return Rectangle{
		LLX: math.Min(v[0], v[2]), LLY: math.Min(v[1], v[3]),
		URX: math.Max(v[0], v[2]), URY: math.Max(v[1], v[3]),
	}, nil
}

// number returns the value of an Integer or Real.
func number(o Object) (float64, bool) {
	switch v := o.(type) {
	case Integer:
		return float64(v), true
	case Real:
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return 0, false
		}
		return float64(v), true
	}
	return 0, false
}
