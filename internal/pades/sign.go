package pades

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"strconv"
	"time"

	"sello/internal/appearance"
	"sello/internal/cms"
	"sello/internal/pdf"
)

// maxFields bounds how many form fields are examined.
const maxFields = 100000

// rectTolerance is how far, in points, a rectangle may stick out of the
// visible page area (rounding in the client's arithmetic).
const rectTolerance = 0.01

// Sign signs the document held in src (size bytes) and returns the signed
// document. The source must stay readable and unchanged until the result has
// been written.
//
// The document is read once for its structure (only the objects signing
// needs) and once, sequentially, for the digest; the two run concurrently. Errors wrap the pdf
// package's errors when the document cannot be read, or this package's
// sentinels (ErrCertified, ErrPageOutOfRange, ...). It is safe to call Sign
// concurrently.
func Sign(ctx context.Context, src io.ReaderAt, size int64, opts Options) (*Signed, error) {
	if opts.Key == nil || opts.Key.Signer == nil || opts.Key.Certificate() == nil {
		return nil, ErrNoKey
	}
	switch opts.Hash {
	case 0:
		opts.Hash = crypto.SHA256
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedHash, opts.Hash)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Time.IsZero() {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		opts.Time = now()
	}

	// The digest of the original bytes does not depend on what is
	// appended, so the one sequential pass over them runs while the
	// structure is read and the update built; a refusal stops it.
	stop := make(chan struct{})
	defer close(stop)
	hashed := make(chan hashResult, 1)
	go func() {
		h := opts.Hash.New()
		hashed <- hashResult{h, hashPrefix(h, src, size, stop)}
	}()

	r, err := pdf.Open(src, size, nil)
	if err != nil {
		return nil, err
	}
	if err := checkSignable(r); err != nil {
		return nil, err
	}

	cmsOpts := cms.SignOptions{
		Signer: opts.Key.Signer,
		Chain:  opts.Key.Chain,
		Hash:   opts.Hash,
		PSS:    opts.PSS,
		Rand:   opts.Rand,
	}
	maxLen, err := cms.MaxSize(cmsOpts)
	if err != nil {
		return nil, fmt.Errorf("pades: size the signature: %w", err)
	}
	if opts.Timestamper != nil {
		reserve := opts.TimestampReserve
		if reserve <= 0 {
			reserve = DefaultTimestampReserve
		}
		// The attribute's SET and SEQUENCE headers come on top of the token.
		maxLen += reserve + 32
	}

	u := pdf.NewUpdate(r)
	contents := &pdf.Placeholder{Len: maxLen}
	byteRange := &pdf.ByteRangePlaceholder{}
	if err := addSignature(r, u, opts, contents, byteRange); err != nil {
		return nil, err
	}
	tail, err := u.Bytes()
	if err != nil {
		return nil, err
	}

	// The ByteRange covers everything but the /Contents hex string,
	// brackets included (ISO 32000-2 §12.8.1).
	total := size + int64(len(tail))
	gapStart := contents.Offset
	gapEnd := contents.Offset + int64(2+2*contents.Len)
	br, ok := pdf.FormatByteRange([4]int64{0, gapStart, gapEnd, total - gapEnd})
	if !ok {
		return nil, fmt.Errorf("pades: byte range of a %d-byte file does not fit", total)
	}
	copy(tail[byteRange.Offset-size:], br)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := <-hashed
	if res.err != nil {
		return nil, fmt.Errorf("pades: read document: %w", res.err)
	}
	h := res.h
	var prefix []byte
	if opts.Hash == crypto.SHA256 {
		if m, ok := h.(encoding.BinaryMarshaler); ok {
			prefix, _ = m.MarshalBinary()
		}
	}
	h.Write(tail[:gapStart-size])
	h.Write(tail[gapEnd-size:])
	digest := h.Sum(nil)

	der, err := cms.Sign(digest, cmsOpts)
	if err != nil {
		return nil, fmt.Errorf("pades: sign: %w", err)
	}
	if opts.Timestamper != nil {
		der, err = cms.AddTimestamp(ctx, der, opts.Hash, opts.Timestamper.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTimestampUnavailable, err)
		}
		if len(der) > contents.Len {
			return nil, fmt.Errorf("%w: %d bytes with the token, %d reserved", ErrTimestampTooLarge, len(der), contents.Len)
		}
	}
	if len(der) > contents.Len {
		// MaxSize is an upper bound by construction; reaching here is a bug.
		return nil, fmt.Errorf("pades: signature of %d bytes exceeds the %d reserved", len(der), contents.Len)
	}
	hex.Encode(tail[gapStart-size+1:], der)
	return &Signed{src: src, size: size, Tail: tail, prefix: prefix}, nil
}

type hashResult struct {
	h   hash.Hash
	err error
}

// errStopped reports a digest pass abandoned because signing failed.
var errStopped = errors.New("pades: digest abandoned")

// hashPrefix feeds src[0:size] to h in one sequential pass, giving up when
// stop is closed.
func hashPrefix(h io.Writer, src io.ReaderAt, size int64, stop <-chan struct{}) error {
	buf := make([]byte, max(min(size, 256<<10), 512))
	for off := int64(0); off < size; {
		select {
		case <-stop:
			return errStopped
		default:
		}
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && off == size) {
			return err
		}
	}
	return nil
}

// checkSignable refuses documents a new signature would damage.
func checkSignable(r *pdf.Reader) error {
	if sec := r.Security(); sec != nil {
		if sec.NeedsPassword {
			return ErrEncrypted
		}
		// Adding a signature field is adding an annotation: bit 6 must be
		// set (ISO 32000-2 Table 22; bit 9 only lets existing fields be
		// filled in).
		if !sec.Allows(pdf.PermAnnotate) {
			return ErrNotPermitted
		}
	}
	cat, err := r.Catalog()
	if err != nil {
		return err
	}
	p, err := docMDP(r, cat)
	if err != nil {
		return err
	}
	if p == 1 {
		return ErrCertified
	}
	return nil
}

// docMDP returns the /P of the document's certification signature, or 0
// when it has none (ISO 32000-2 §12.8.2.2).
func docMDP(r *pdf.Reader, cat pdf.Dict) (int, error) {
	perms, err := resolveDict(r, cat["Perms"])
	if err != nil || perms == nil {
		return 0, err
	}
	sig, err := resolveDict(r, perms["DocMDP"])
	if err != nil || sig == nil {
		return 0, err
	}
	refs, err := resolveArray(r, sig["Reference"])
	if err != nil {
		return 0, err
	}
	for _, o := range refs {
		ref, err := resolveDict(r, o)
		if err != nil {
			return 0, err
		}
		method, err := r.Resolve(ref["TransformMethod"])
		if err != nil {
			return 0, err
		}
		if name, _ := method.(pdf.Name); name != "DocMDP" {
			continue
		}
		params, err := resolveDict(r, ref["TransformParams"])
		if err != nil {
			return 0, err
		}
		// Any value may be an indirect reference (ISO 32000-2 §7.3.10),
		// /P included.
		pv, err := r.Resolve(params["P"])
		if err != nil {
			return 0, err
		}
		p := 2
		if v, ok := pv.(pdf.Integer); ok {
			p = int(v)
		}
		return p, nil
	}
	// A DocMDP signature without a readable reference: the default is 2.
	return 2, nil
}

func resolveDict(r *pdf.Reader, o pdf.Object) (pdf.Dict, error) {
	o, err := r.Resolve(o)
	if err != nil {
		return nil, err
	}
	switch v := o.(type) {
	case pdf.Dict:
		return v, nil
	case *pdf.Stream:
		return v.Dict, nil
	}
	return nil, nil
}

func resolveArray(r *pdf.Reader, o pdf.Object) (pdf.Array, error) {
	o, err := r.Resolve(o)
	if err != nil {
		return nil, err
	}
	a, _ := o.(pdf.Array)
	return a, nil
}

// addSignature adds to u the signature dictionary, the signature field with
// its widget on the page, the AcroForm changes and the appearance.
func addSignature(r *pdf.Reader, u *pdf.Update, opts Options, contents *pdf.Placeholder, byteRange *pdf.ByteRangePlaceholder) error {
	n, err := r.NumPages()
	if err != nil {
		return err
	}
	idx := opts.Page
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		return fmt.Errorf("%w: page %d of a %d-page document", ErrPageOutOfRange, opts.Page, n)
	}
	page, err := r.Page(idx)
	if err != nil {
		return err
	}

	cat, err := r.Catalog()
	if err != nil {
		return err
	}
	root, _ := r.Trailer()["Root"].(pdf.Ref)

	sig := pdf.Dict{
		"Type":      pdf.Name("Sig"),
		"Filter":    pdf.Name("Adobe.PPKLite"),
		"SubFilter": pdf.Name("ETSI.CAdES.detached"),
		"ByteRange": byteRange,
		"Contents":  contents,
		"M":         pdf.String(Date(opts.Time)),
	}
	if opts.Name != "" {
		sig["Name"] = TextString(opts.Name)
	}
	if opts.Reason != "" {
		sig["Reason"] = TextString(opts.Reason)
	}
	if opts.Location != "" {
		sig["Location"] = TextString(opts.Location)
	}
	sigRef := u.Add(sig)

	acro, acroRef, err := acroForm(r, cat)
	if err != nil {
		return err
	}
	fields, err := fieldArray(r, acro)
	if err != nil {
		return err
	}
	name, err := uniqueFieldName(r, fields)
	if err != nil {
		return err
	}

	widget := pdf.Dict{
		"Type":    pdf.Name("Annot"),
		"Subtype": pdf.Name("Widget"),
		"FT":      pdf.Name("Sig"),
		"T":       TextString(name),
		"V":       sigRef,
		"F":       pdf.Integer(132), // Print, Locked
		"P":       page.Ref,
		"Rect":    pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)},
	}
	if opts.Rect != nil {
		rect, w, h, err := userRect(page, *opts.Rect)
		if err != nil {
			return err
		}
		widget["Rect"] = rect
		builder := opts.Appearance
		if builder == nil {
			builder = new(appearance.Builder)
		}
		ap, err := builder.Build(u, appearance.Options{
			Width:          w,
			Height:         h,
			Rotate:         page.Rotate,
			Name:           opts.Name,
			Identification: opts.Identification,
			Time:           opts.Time,
			Reason:         opts.Reason,
			Location:       opts.Location,
		})
		if err != nil {
			return fmt.Errorf("pades: build appearance: %w", err)
		}
		widget["AP"] = pdf.Dict{"N": ap}
	}
	widgetRef := u.Add(widget)

	if err := addAnnot(r, u, page, widgetRef); err != nil {
		return err
	}

	// The field goes into a new direct /Fields array of the AcroForm: an
	// indirect one is left as it was, since it may also serve as a page's
	// /Annots, which would then show the widget. The form gets /SigFlags 3
	// (SignaturesExist, AppendOnly) and loses /NeedAppearances, which would
	// make viewers regenerate appearances and hide ours.
	form := copyDict(acro)
	form["Fields"] = append(append(pdf.Array{}, fields...), widgetRef)
	fo, err := r.Resolve(form["SigFlags"])
	if err != nil {
		return err
	}
	flags, _ := fo.(pdf.Integer)
	form["SigFlags"] = flags | 3
	delete(form, "NeedAppearances")
	switch {
	case acroRef != (pdf.Ref{}):
		u.Set(acroRef, form)
	default:
		if root == (pdf.Ref{}) {
			return fmt.Errorf("pades: the trailer's /Root is not an indirect reference")
		}
		newCat := copyDict(cat)
		if acro == nil {
			newCat["AcroForm"] = u.Add(form)
		} else {
			newCat["AcroForm"] = form
		}
		u.Set(root, newCat)
	}
	return nil
}

// acroForm returns the document's interactive form dictionary and, when it
// is an indirect object, its reference. Both are zero when there is none.
func acroForm(r *pdf.Reader, cat pdf.Dict) (pdf.Dict, pdf.Ref, error) {
	o := cat["AcroForm"]
	ref, _ := o.(pdf.Ref)
	d, err := resolveDict(r, o)
	if err != nil {
		return nil, pdf.Ref{}, err
	}
	if d == nil {
		return nil, pdf.Ref{}, nil
	}
	return d, ref, nil
}

// fieldArray returns the form's /Fields, through a reference; nil when it
// has none or it is not an array.
func fieldArray(r *pdf.Reader, acro pdf.Dict) (pdf.Array, error) {
	if acro == nil {
		return nil, nil
	}
	res, err := r.Resolve(acro["Fields"])
	if err != nil {
		return nil, err
	}
	a, _ := res.(pdf.Array)
	return a, nil
}

// uniqueFieldName returns "SignatureN" with the smallest N not already used
// by a top-level field.
func uniqueFieldName(r *pdf.Reader, fields pdf.Array) (string, error) {
	used := make(map[string]bool, len(fields))
	for i, f := range fields {
		if i >= maxFields {
			break
		}
		d, err := resolveDict(r, f)
		if err != nil {
			return "", err
		}
		if d == nil {
			continue
		}
		if t, ok := stringValue(r, d["T"]); ok {
			used[DecodeTextString(t)] = true
		}
	}
	for i := 1; ; i++ {
		name := "Signature" + strconv.Itoa(i)
		if !used[name] {
			return name, nil
		}
	}
}

// addAnnot gives the page a new /Annots array: its annotations, then the
// widget. An indirect array is copied, never changed: other pages may
// share it, and the widget would then show on each of them.
func addAnnot(r *pdf.Reader, u *pdf.Update, page *pdf.Page, widget pdf.Ref) error {
	o, err := r.Resolve(page.Dict["Annots"])
	if err != nil {
		return err
	}
	arr, _ := o.(pdf.Array)
	d := copyDict(page.Dict)
	d["Annots"] = append(append(pdf.Array{}, arr...), widget)
	u.Set(page.Ref, d)
	return nil
}

func copyDict(d pdf.Dict) pdf.Dict {
	c := make(pdf.Dict, len(d)+2)
	for k, v := range d {
		c[k] = v
	}
	return c
}

// userRect maps a rectangle given as the page is shown (origin at the
// visible lower-left corner, after /Rotate) into the page's default user
// space (DESIGN.md §1), and returns it with its displayed width and height.
func userRect(page *pdf.Page, rect Rect) (pdf.Array, float64, float64, error) {
	for _, v := range []float64{rect.X1, rect.Y1, rect.X2, rect.Y2} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, 0, fmt.Errorf("%w: coordinates must be finite numbers", ErrRectOutsidePage)
		}
	}
	x1, x2 := math.Min(rect.X1, rect.X2), math.Max(rect.X1, rect.X2)
	y1, y2 := math.Min(rect.Y1, rect.Y2), math.Max(rect.Y1, rect.Y2)
	w, h := x2-x1, y2-y1
	if w <= 0 || h <= 0 {
		return nil, 0, 0, ErrEmptyRect
	}
	if page.OddRotate != 0 {
		// Placing the stamp means knowing how the page is shown.
		return nil, 0, 0, fmt.Errorf("%w: /Rotate %d", ErrOddRotate, page.OddRotate)
	}
	box := page.CropBox
	bw, bh := box.URX-box.LLX, box.URY-box.LLY
	if page.Rotate == 90 || page.Rotate == 270 {
		bw, bh = bh, bw
	}
	if x1 < -rectTolerance || y1 < -rectTolerance || x2 > bw+rectTolerance || y2 > bh+rectTolerance {
		return nil, 0, 0, fmt.Errorf("%w: [%g %g %g %g] is not within the %g x %g page", ErrRectOutsidePage, x1, y1, x2, y2, bw, bh)
	}
	pt := func(x, y float64) (float64, float64) {
		switch page.Rotate {
		case 90:
			return box.URX - y, box.LLY + x
		case 180:
			return box.URX - x, box.URY - y
		case 270:
			return box.LLX + y, box.URY - x
		}
		return box.LLX + x, box.LLY + y
	}
	ax, ay := pt(x1, y1)
	bx, by := pt(x2, y2)
	// float64, not pdf.Real: computed numbers are written in their
	// shortest form, whole ones as integers.
	return pdf.Array{
		math.Min(ax, bx), math.Min(ay, by),
		math.Max(ax, bx), math.Max(ay, by),
	}, w, h, nil
}
