package signing

import (
	"errors"

	"sello/internal/ca"
	"sello/internal/identity"
	"sello/internal/pades"
	"sello/internal/pdf"
)

// reasons turns the error that sank one document into that document's
// errorReason (STYLE.md §5). The first match wins; an error that matches no
// row is a fault of the service, not of the document. The texts are wire
// contract: the identity text is fixed by the specification, the others were
// chosen once and are pinned by TestReasonTexts; never reword them.
var reasons = []struct {
	match  func(error) bool
	reason string
}{
	{is(identity.ErrNotValidated), "Identity validation error."},
	{is(ca.ErrInvalidPerson), "Identity validation error."},
	{is(pdf.ErrNotPDF), "The document is not a PDF file."},
	{is(pdf.ErrJunkBeforeHeader), "The document has data before its PDF header and cannot be signed safely."},
	{is(pades.ErrEncrypted), "The document is encrypted and cannot be signed."},
	{is(pdf.ErrEncrypted), "The document is encrypted and cannot be signed."},
	{is(pades.ErrNotPermitted), "The document's permissions do not allow signing."},
	{is(pades.ErrCertified), "The document is certified against any change and cannot be signed."},
	{is(pades.ErrPageOutOfRange), "The signature page does not exist in the document."},
	{is(pdf.ErrPageRange), "The signature page does not exist in the document."},
	{is(pades.ErrRectOutsidePage), "The signature rectangle lies outside the page."},
	{is(pades.ErrEmptyRect), "The signature rectangle has zero area."},
	{is(pades.ErrOddRotate), "The signature page's rotation is not a multiple of 90 degrees, so the signature cannot be placed on it."},
	{is(pdf.ErrTruncated), "The document is incomplete (truncated) and cannot be signed."},
	{is(pdf.ErrDamaged), "The document is damaged and cannot be signed."},
	{is(pdf.ErrUnsupportedFilter), "The document uses a compression the service does not support."},
	{is(pdf.ErrLimit), "The document exceeds the service's limits on PDF structure."},
	{as[*pdf.SyntaxError], "The document is damaged and cannot be signed."},
}

// Reason returns the errorReason for an error returned while signing one
// document, and false when the error is not the document's fault (the caller
// must then treat it as a service fault).
func Reason(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	for _, r := range reasons {
		if r.match(err) {
			return r.reason, true
		}
	}
	return "", false
}

// is returns a matcher for errors.Is(err, target).
func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// as reports whether errors.As finds a T in err's chain.
func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
