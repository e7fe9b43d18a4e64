package signing

import (
	"errors"

	"sello/internal/identity"
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
