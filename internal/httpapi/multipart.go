package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/semaphore"

	"sello/internal/pades"
)

// msgMissing is the specification's text for a request without documents or
// without clientInfo.
const msgMissing = "Missing documents or client information."

func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf(format, args...)}
}

// byteCount renders a limit for an error text: "50 MB (52428800 bytes)", or
// just "1000 bytes" when it is not a whole number of megabytes.
func byteCount(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB (%d bytes)", n>>20, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fieldKind is what a multipart field of POST /sign-documents carries.
type fieldKind int

const (
	fieldReference fieldKind = iota + 1 // documentPairs[i].referenceNumber
	fieldDocument                       // documentPairs[i].document
	fieldClientInfo
	fieldX1
	fieldY1
	fieldX2
	fieldY2
	fieldPage
)

// plainFields are the field names that carry no index.
var plainFields = map[string]fieldKind{
	"clientInfo":    fieldClientInfo,
	"x1":            fieldX1,
	"y1":            fieldY1,
	"x2":            fieldX2,
	"y2":            fieldY2,
	"signaturePage": fieldPage,
}

// fieldName is a parsed multipart field name. Index is meaningful for
// fieldReference and fieldDocument only.
type fieldName struct {
	kind  fieldKind
	index int
}

// String returns the field name as the client writes it.
func (f fieldName) String() string {
	switch f.kind {
	case fieldReference:
		return fmt.Sprintf("documentPairs[%d].referenceNumber", f.index)
	case fieldDocument:
		return fmt.Sprintf("documentPairs[%d].document", f.index)
	}
	for name, k := range plainFields {
		if k == f.kind {
			return name
		}
	}
	return fmt.Sprintf("fieldName(%d)", int(f.kind))
}

// maxIndexDigits bounds the digits of a pair index, so that parsing never
// overflows; the documents-per-request limit is checked by the caller.
const maxIndexDigits = 6

// parseFieldName parses a multipart field name of POST /sign-documents:
// documentPairs[i].referenceNumber, documentPairs[i].document (i a decimal
// number without sign or leading zeros), clientInfo, x1, y1, x2, y2 or
// signaturePage. The error is a 400 *requestError saying what is wrong.
func parseFieldName(name string) (fieldName, error) {
	if k, ok := plainFields[name]; ok {
		return fieldName{kind: k}, nil
	}
	rest, ok := strings.CutPrefix(name, "documentPairs[")
	if !ok {
		return fieldName{}, badRequest("Unknown field %q.", name)
	}
	digits, member, ok := strings.Cut(rest, "]")
	if !ok {
		return fieldName{}, badRequest("Field %q: missing ']' after the index.", name)
	}
	if digits == "" || len(digits) > maxIndexDigits || (len(digits) > 1 && digits[0] == '0') {
		return fieldName{}, badRequest("Field %q: the index must be a number from 0 without leading zeros.", name)
	}
	index := 0
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return fieldName{}, badRequest("Field %q: the index must be a number from 0 without leading zeros.", name)
		}
		index = index*10 + int(c-'0')
	}
	switch member {
	case ".referenceNumber":
		return fieldName{kind: fieldReference, index: index}, nil
	case ".document":
		return fieldName{kind: fieldDocument, index: index}, nil
	}
	return fieldName{}, badRequest("Field %q: expected documentPairs[%d].referenceNumber or documentPairs[%d].document.", name, index, index)
}

// formLimits are the limits on one POST /sign-documents body.
type formLimits struct {
	maxDocumentBytes int64 // per document
	maxRequestBytes  int64 // whole body, multipart framing included
	maxDocuments     int
	maxFieldBytes    int64 // per text field
	memoryThreshold  int64 // documents up to this size stay in memory
}

// spool holds one document: in memory up to the threshold, beyond it in an
// unlinked temporary file that disappears when it is closed.
type spool struct {
	mem  []byte
	file *os.File
	size int64
}

// ReaderAt returns the document's bytes.
func (s *spool) ReaderAt() io.ReaderAt {
	if s.file != nil {
		return s.file
	}
	return bytes.NewReader(s.mem)
}

// pair is one documentPairs[i] as read so far.
type pair struct {
	reference    string
	hasReference bool
	doc          *spool
}

// signForm is the parsed body of a POST /sign-documents request. Close
// releases its temporary files and memory.
type signForm struct {
	pairs         map[int]*pair
	clientInfo    string
	hasClientInfo bool
	coords        [4]*string // x1, y1, x2, y2
	page          *string

	// files are the temporary files to close; memory is what was taken
	// from the budget, given back on Close; buffers hold the documents
	// kept in memory and go back to pool on Close.
	files   []*os.File
	budget  *semaphore.Weighted
	memory  int64
	buffers []*bytes.Buffer
	pool    *sync.Pool
}

// Close closes and removes the form's temporary files and gives its memory
// back to the budget. It is safe to call more than once.
func (f *signForm) Close() error {
	var errs []error
	for _, file := range f.files {
		errs = append(errs, file.Close())
		// The file was unlinked when it was created; removing it again
		// covers systems where that failed.
		if err := os.Remove(file.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	f.files = nil
	for _, b := range f.buffers {
		f.recycle(b)
	}
	f.buffers = nil
	if f.budget != nil && f.memory > 0 {
		f.budget.Release(f.memory)
		f.memory = 0
	}
	f.pairs = nil
	return errors.Join(errs...)
}

// maxPooledBuffer is the largest document buffer kept for reuse; larger
// ones are left to the garbage collector so that one big upload does not
// pin its memory.
const maxPooledBuffer = 1 << 20

// buffer returns an empty buffer for a document, from the pool when there
// is one.
func (f *signForm) buffer() *bytes.Buffer {
	if f.pool != nil {
		if b, ok := f.pool.Get().(*bytes.Buffer); ok {
			b.Reset()
			return b
		}
	}
	return bytes.NewBuffer(make([]byte, 0, 64<<10+bytes.MinRead))
}

// recycle gives a document buffer back to the pool.
func (f *signForm) recycle(b *bytes.Buffer) {
	if f.pool != nil && b.Cap() <= maxPooledBuffer {
		b.Reset()
		f.pool.Put(b)
	}
}

// limitedBody counts the bytes of a request body and fails with a 413 once
// more than max have been read.
type limitedBody struct {
	r    io.Reader
	left int64
	max  int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, tooLarge("The request is larger than the limit of %s.", byteCount(l.max))
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, tooLarge("The request is larger than the limit of %s.", byteCount(l.max))
	}
	return n, err
}

// formReader reads one POST /sign-documents body part by part, each part
// once, as it arrives.
type formReader struct {
	limits  formLimits
	tempDir string
	budget  *semaphore.Weighted // bytes of documents held in memory, service-wide
	buffers *sync.Pool          // of *bytes.Buffer, for documents kept in memory
}

// read parses the body of r. On error the returned form is nil and every
// temporary file is already gone; otherwise the caller must Close the form.
func (fr *formReader) read(r *http.Request) (_ *signForm, err error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, badRequest("The request must be multipart/form-data.")
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, badRequest("The multipart/form-data content type has no boundary.")
	}
	if r.ContentLength > fr.limits.maxRequestBytes {
		return nil, tooLarge("The request is larger than the limit of %s.", byteCount(fr.limits.maxRequestBytes))
	}
	body := &limitedBody{r: r.Body, left: fr.limits.maxRequestBytes, max: fr.limits.maxRequestBytes}
	mr := multipart.NewReader(body, boundary)

	form := &signForm{pairs: make(map[int]*pair), budget: fr.budget, pool: fr.buffers}
	defer func() {
		if err != nil {
			form.Close()
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyError(err)
		}
		err = fr.readPart(form, part)
		part.Close()
		if err != nil {
			return nil, err
		}
	}
	return form, nil
}

// bodyError turns an error met while reading the body into a request
// error: a limit already reported as 413 stays so, anything else (broken
// multipart framing, a client that went away) is a 400.
func bodyError(err error) error {
	var re *requestError
	if errors.As(err, &re) {
		return re
	}
	return badRequest("The multipart body could not be read: %v.", err)
}

func (fr *formReader) readPart(form *signForm, part *multipart.Part) error {
	if part.FormName() == "" {
		return badRequest("A multipart part has no form-data name.")
	}
	name, err := parseFieldName(part.FormName())
	if err != nil {
		return err
	}
	switch name.kind {
	case fieldReference, fieldDocument:
		if name.index >= fr.limits.maxDocuments {
			return tooLarge("The request has more than the limit of %d documents.", fr.limits.maxDocuments)
		}
		p := form.pairs[name.index]
		if p == nil {
			if len(form.pairs) >= fr.limits.maxDocuments {
				return tooLarge("The request has more than the limit of %d documents.", fr.limits.maxDocuments)
			}
			p = &pair{}
			form.pairs[name.index] = p
		}
		if name.kind == fieldReference {
			if p.hasReference {
				return badRequest("Field %s is repeated.", name)
			}
			p.reference, err = fr.readText(part, name)
			p.hasReference = true
			return err
		}
		if p.doc != nil {
			return badRequest("Field %s is repeated.", name)
		}
		p.doc, err = fr.readDocument(form, part, name)
		return err
	case fieldClientInfo:
		if form.hasClientInfo {
			return badRequest("Field clientInfo is repeated.")
		}
		form.clientInfo, err = fr.readText(part, name)
		form.hasClientInfo = true
		return err
	case fieldPage:
		if form.page != nil {
			return badRequest("Field signaturePage is repeated.")
		}
		v, err := fr.readText(part, name)
		form.page = &v
		return err
	default:
		i := int(name.kind - fieldX1)
		if form.coords[i] != nil {
			return badRequest("Field %s is repeated.", name)
		}
		v, err := fr.readText(part, name)
		form.coords[i] = &v
		return err
	}
}

// readText reads a text field, at most maxFieldBytes.
func (fr *formReader) readText(part *multipart.Part, name fieldName) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, fr.limits.maxFieldBytes+1))
	if err != nil {
		return "", bodyError(err)
	}
	if int64(len(b)) > fr.limits.maxFieldBytes {
		return "", tooLarge("Field %s is larger than the limit of %s.", name, byteCount(fr.limits.maxFieldBytes))
	}
	return string(b), nil
}

// readDocument reads a document part: into memory while it fits under the
// threshold and the service-wide budget allows, into a temporary file
// beyond.
func (fr *formReader) readDocument(form *signForm, part *multipart.Part, name fieldName) (*spool, error) {
	max := fr.limits.maxDocumentBytes
	limited := io.LimitReader(part, max+1)
	var head []byte
	threshold := fr.limits.memoryThreshold
	if threshold > 0 && fr.budget != nil && fr.budget.TryAcquire(threshold) {
		buf := form.buffer()
		form.buffers = append(form.buffers, buf)
		_, err := buf.ReadFrom(io.LimitReader(limited, threshold+1))
		n := int64(buf.Len())
		if err != nil || n > threshold {
			fr.budget.Release(threshold)
		} else {
			// Keep only what the document uses.
			fr.budget.Release(threshold - n)
			form.memory += n
		}
		if err != nil {
			return nil, bodyError(err)
		}
		if n <= threshold {
			if n > max {
				return nil, tooLarge("Document %s is larger than the limit of %s.", name, byteCount(max))
			}
			return &spool{mem: buf.Bytes(), size: n}, nil
		}
		head = buf.Bytes()
	}

	f, err := os.CreateTemp(fr.tempDir, "sello-upload-*.pdf")
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	form.files = append(form.files, f)
	// Unlinked at once: the bytes live as long as the descriptor, and
	// nothing is left behind even if the process dies.
	if err := os.Remove(f.Name()); err != nil {
		return nil, fmt.Errorf("unlink temporary file: %w", err)
	}
	if _, err := f.Write(head); err != nil {
		return nil, fmt.Errorf("write temporary file: %w", err)
	}
	headLen := int64(len(head))
	if head != nil {
		// The head is on disk now; its buffer is the last one taken.
		last := len(form.buffers) - 1
		form.recycle(form.buffers[last])
		form.buffers = form.buffers[:last]
	}
	n, err := io.Copy(f, limited)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("write temporary file: %w", err)
		}
		return nil, bodyError(err)
	}
	size := headLen + n
	if size > max {
		return nil, tooLarge("Document %s is larger than the limit of %s.", name, byteCount(max))
	}
	return &spool{file: f, size: size}, nil
}

// signParams are the validated fields of a POST /sign-documents request.
type signParams struct {
	clientInfo string
	page       int
	rect       *pades.Rect
	references []string
	docs       []*spool
}

// validate checks the form as a whole: every pair complete, indexes 0..n-1,
// coordinates all or none, a whole-number page.
func (f *signForm) validate() (*signParams, error) {
	hasDoc := false
	for _, p := range f.pairs {
		hasDoc = hasDoc || p.doc != nil
	}
	if !hasDoc || strings.TrimSpace(f.clientInfo) == "" {
		return nil, badRequest(msgMissing)
	}
	n := len(f.pairs)
	params := &signParams{clientInfo: f.clientInfo, references: make([]string, n), docs: make([]*spool, n)}
	for i := range n {
		p := f.pairs[i]
		switch {
		case p == nil:
			return nil, badRequest("documentPairs[%d] is missing: indexes must run from 0 without gaps.", i)
		case p.doc == nil:
			return nil, badRequest("documentPairs[%d] has a referenceNumber but no document.", i)
		case !p.hasReference:
			return nil, badRequest("documentPairs[%d] has a document but no referenceNumber.", i)
		}
		params.references[i], params.docs[i] = p.reference, p.doc
	}

	rect, err := f.rect()
	if err != nil {
		return nil, err
	}
	params.rect = rect
	if f.page != nil {
		page, err := strconv.Atoi(strings.TrimSpace(*f.page))
		if err != nil {
			return nil, badRequest("signaturePage must be a whole number, got %q.", *f.page)
		}
		params.page = page
	}
	return params, nil
}

// rect returns the visible signature's rectangle, nil when no coordinate is
// given.
func (f *signForm) rect() (*pades.Rect, error) {
	names := [4]string{"x1", "y1", "x2", "y2"}
	var v [4]float64
	var missing []string
	for i, c := range f.coords {
		if c == nil {
			missing = append(missing, names[i])
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(*c), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, badRequest("%s must be a number, got %q.", names[i], *c)
		}
		v[i] = x
	}
	switch len(missing) {
	case 4:
		return nil, nil
	case 0:
	default:
		return nil, badRequest("x1, y1, x2 and y2 must be given together; missing %s.", strings.Join(missing, ", "))
	}
	if v[0] == v[2] || v[1] == v[3] {
		return nil, badRequest("The signature rectangle (%g,%g)-(%g,%g) has zero area.", v[0], v[1], v[2], v[3])
	}
	return &pades.Rect{X1: v[0], Y1: v[1], X2: v[2], Y2: v[3]}, nil
}
