package remote

import (
	"errors"
	"testing"
)

// FuzzDecode checks that any 200 body gives either a transaction for the
// number asked for, with a known status and an account, or ErrMalformed.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"number":"7f3a9c","account":"ACME","status":"approved","name":"José","idNumber":"1","expiresAt":"2026-05-04T12:00:00Z"}`,
		`{"number":"7f3a9c","account":"ACME","status":"pending","expiresAt":null}`,
		`{"number":"7f3a9c"}`, `[]`, `null`, `{"expiresAt":"x"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := decode(body, "7f3a9c")
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode(%q) = %v, want ErrMalformed", body, err)
			}
			return
		}
		if tr.Number != "7f3a9c" || tr.Account == "" || !tr.Status.Valid() {
			t.Fatalf("decode(%q) = %+v: wrong number, no account or unknown status", body, tr)
		}
	})
}
