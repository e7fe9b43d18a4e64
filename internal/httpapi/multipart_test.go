package httpapi

import (
	"errors"
	"net/http"
	"testing"
)

func TestParseFieldName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want fieldName
		bad  bool
	}{
		{name: "documentPairs[0].referenceNumber", want: fieldName{kind: fieldReference, index: 0}},
		{name: "documentPairs[0].document", want: fieldName{kind: fieldDocument, index: 0}},
		{name: "documentPairs[19].document", want: fieldName{kind: fieldDocument, index: 19}},
		{name: "documentPairs[999999].document", want: fieldName{kind: fieldDocument, index: 999999}},
		{name: "clientInfo", want: fieldName{kind: fieldClientInfo}},
		{name: "x1", want: fieldName{kind: fieldX1}},
		{name: "y1", want: fieldName{kind: fieldY1}},
		{name: "x2", want: fieldName{kind: fieldX2}},
		{name: "y2", want: fieldName{kind: fieldY2}},
		{name: "signaturePage", want: fieldName{kind: fieldPage}},
		{name: "", bad: true},
		{name: "clientinfo", bad: true},
		{name: "documentPairs", bad: true},
		{name: "documentPairs[", bad: true},
		{name: "documentPairs[]", bad: true},
		{name: "documentPairs[].document", bad: true},
		{name: "documentPairs[0]", bad: true},
		{name: "documentPairs[0].", bad: true},
		{name: "documentPairs[0].Document", bad: true},
		{name: "documentPairs[0].document ", bad: true},
		{name: "documentPairs[0].documentx", bad: true},
		{name: "documentPairs[01].document", bad: true},
		{name: "documentPairs[-1].document", bad: true},
		{name: "documentPairs[+1].document", bad: true},
		{name: "documentPairs[1e3].document", bad: true},
		{name: "documentPairs[ 1].document", bad: true},
		{name: "documentPairs[1000000].document", bad: true},
		{name: "documentPairs[99999999999999999999].document", bad: true},
		{name: "documentPairs[0][1].document", bad: true},
		{name: "documentPairs[0].referenceNumber.document", bad: true},
		{name: "DocumentPairs[0].document", bad: true},
		{name: "documentPairs(0).document", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFieldName(tt.name)
			if tt.bad {
				var re *requestError
				if !errors.As(err, &re) || re.status != http.StatusBadRequest {
					t.Fatalf("parseFieldName(%q) = %v, %v; want a 400 error", tt.name, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseFieldName(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
			}
			if s := got.String(); s != tt.name {
				t.Errorf("parseFieldName(%q).String() = %q", tt.name, s)
			}
		})
	}
}

// FuzzParseFieldName checks that the parser never panics, that every error
// is a 400 request error, and that an accepted name is canonical: printing
// it gives back exactly the input.
func FuzzParseFieldName(f *testing.F) {
	for _, s := range []string{
		"documentPairs[0].referenceNumber", "documentPairs[12].document", "clientInfo",
		"x1", "signaturePage", "documentPairs[01].document", "documentPairs[0]", "",
		"documentPairs[999999].document", "documentPairs[\x00].document",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := parseFieldName(name)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status != http.StatusBadRequest || re.msg == "" {
				t.Fatalf("parseFieldName(%q) error = %#v, want a 400 request error", name, err)
			}
			return
		}
		if got.String() != name {
			t.Fatalf("parseFieldName(%q) = %v, which prints as %q", name, got, got.String())
		}
		if got.index < 0 {
			t.Fatalf("parseFieldName(%q) index = %d", name, got.index)
		}
	})
}

func TestByteCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{50 << 20, "50 MB (52428800 bytes)"},
		{1000, "1000 bytes"},
		{1<<20 + 1, "1048577 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := byteCount(tt.n); got != tt.want {
				t.Errorf("byteCount(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
