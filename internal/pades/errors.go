package pades

import "errors"

// Errors that make a document unsignable. Each wraps into the error Sign
// returns, so callers branch with errors.Is.
var (
	// ErrCertified reports a document certified with DocMDP /P 1: any
	// change, a new signature included, would break the certification
	// (ISO 32000-2 §12.8.2.2).
	ErrCertified = errors.New("pades: the document is certified against any change")
	// ErrEncrypted reports an encrypted document that cannot be opened
	// without a password, or that we cannot sign.
	ErrEncrypted = errors.New("pades: the document is encrypted")
	// ErrNotPermitted reports an encrypted document whose permissions forbid
	// adding a signature (ISO 32000-2 Table 22, bits 6 and 9).
	ErrNotPermitted = errors.New("pades: the document's permissions forbid signing")
	// ErrPageOutOfRange reports a page index beyond the document's pages.
	ErrPageOutOfRange = errors.New("pades: page out of range")
	// ErrRectOutsidePage reports a signature rectangle that does not lie
	// within the page's visible area.
	ErrRectOutsidePage = errors.New("pades: signature rectangle outside the page")
	// ErrOddRotate reports a visible signature asked for on a page whose
	// /Rotate is not a multiple of 90: viewers show such a page
	// differently, so no placement of the stamp is right for all of them.
	ErrOddRotate = errors.New("pades: the page's rotation is not a multiple of 90 degrees")
	// ErrEmptyRect reports a signature rectangle with zero width or height.
	ErrEmptyRect = errors.New("pades: signature rectangle has zero area")
	// ErrTimestampUnavailable reports that the time-stamping authority
	// could not give a token; the adapter's error is wrapped too.
	ErrTimestampUnavailable = errors.New("pades: time-stamp unavailable")
	// ErrTimestampTooLarge reports a time-stamp token larger than the room
	// reserved for it (Options.TimestampReserve).
	ErrTimestampTooLarge = errors.New("pades: time-stamp token larger than the reserved room")
	// ErrUnsupportedHash reports a digest algorithm other than SHA-256,
	// SHA-384 and SHA-512.
	ErrUnsupportedHash = errors.New("pades: unsupported digest algorithm")
	// ErrNoKey reports Options without a usable key and certificate.
	ErrNoKey = errors.New("pades: no signing key or certificate")
)
