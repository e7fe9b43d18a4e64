package identitytest

import (
	"errors"
	"testing"

	"sello/internal/identity"
)

// CheckOneWinner checks the outcomes of concurrent attempts to use one
// single-use transaction: exactly one attempt succeeded, and every other was
// refused as consumed: identity.ErrConsumed, and, when asRule is set (the
// attempts went through a Checker), a *identity.RuleError with
// identity.RuleConsumed.
func CheckOneWinner(t testing.TB, errs []error, asRule bool) {
	t.Helper()
	wins := 0
	for i, err := range errs {
		var re *identity.RuleError
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, identity.ErrConsumed):
			t.Errorf("attempt %d = %v, want nil or %v", i, err, identity.ErrConsumed)
		case asRule && (!errors.As(err, &re) || re.Rule != identity.RuleConsumed):
			t.Errorf("attempt %d = %v, want rule %v", i, err, identity.RuleConsumed)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d attempts won, want exactly 1", wins, len(errs))
	}
}
