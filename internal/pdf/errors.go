package pdf

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (possibly wrapped) by the reader. Test for them
// with errors.Is.
var (
	// ErrNotPDF reports input without a "%PDF-" header.
	ErrNotPDF = errors.New("pdf: not a PDF file")
	// ErrJunkBeforeHeader reports bytes before the "%PDF-" header. Such files
	// are refused: byte offsets become ambiguous between validators.
	ErrJunkBeforeHeader = errors.New("pdf: bytes before the %PDF- header")
	// ErrTruncated reports a file that ends early: no startxref or %%EOF at
	// the end, an xref section beyond the end of file, or a stream cut short.
	ErrTruncated = errors.New("pdf: file is truncated")
	// ErrDamaged reports cross-reference data that cannot be read or
	// recovered unambiguously.
	ErrDamaged = errors.New("pdf: cross-reference data is damaged")
	// ErrLimit reports that a bound was exceeded (nesting depth, object or
	// stream size, object count, decompression ratio).
	ErrLimit = errors.New("pdf: limit exceeded")
	// ErrUnsupportedFilter reports a stream filter the reader cannot decode.
	ErrUnsupportedFilter = errors.New("pdf: unsupported stream filter")
	// ErrEncrypted reports an encrypted document whose content cannot be
	// decrypted (it needs a password, or its security handler is not
	// supported).
	ErrEncrypted = errors.New("pdf: document is encrypted")
)

// SyntaxError reports malformed PDF syntax at a byte offset of the file (or
// of the decoded object stream, for objects stored in one).
type SyntaxError struct {
	Offset int64  // byte offset where the problem was found
	Msg    string // what is wrong
}

// Error implements the error interface.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("pdf: syntax error at offset %d: %s", e.Offset, e.Msg)
}

// errNeedMore is returned by the lexer when a token runs into the end of a
// window that is not the end of the file; the caller reads a bigger window.
var errNeedMore = errors.New("pdf: need more data")

// ErrPageRange reports a page index outside the document.
var ErrPageRange = errors.New("pdf: page index out of range")
