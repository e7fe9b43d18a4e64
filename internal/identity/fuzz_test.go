package identity_test

import (
	"errors"
	"testing"

	"sello/internal/identity"
)

// FuzzCheck checks that any clientInfo gives either a signer with a name
// and an identification number or a refusal that matches ErrNotValidated,
// and never a panic.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"ok", "", " ", "pending", `{"name":"Ana","identification":"CC 1"}`, `{"name":1}`, `{`,
		`{"name":"Ana","identification":"CC 1","email":null}`, "\xff\xfe", "a\x00b",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, clientInfo string, allowClient bool) {
		s := mustStore(t)
		c := identity.NewChecker(identity.CheckerOptions{Provider: s, Consumer: s, AllowClientData: allowClient, Now: fixedNow})
		signer, err := c.Check(t.Context(), "ACME", clientInfo)
		if err != nil {
			var re *identity.RuleError
			if !errors.As(err, &re) || !errors.Is(err, identity.ErrNotValidated) {
				t.Fatalf("Check(%q) = %v, want a *RuleError", clientInfo, err)
			}
			return
		}
		if signer.Name == "" || signer.IDNumber == "" {
			t.Fatalf("Check(%q) = %+v, want a name and an identification number", clientInfo, signer)
		}
		if signer.Source == identity.SourceClient && !allowClient {
			t.Fatalf("Check(%q) accepted client data while it is not allowed", clientInfo)
		}
	})
}
