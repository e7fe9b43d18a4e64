package pkcs11

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want *URI
	}{
		{
			name: "SoftHSM",
			in:   "pkcs11:token=sello;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
			want: &URI{Token: "sello", Object: "signer", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINValue: "1234"},
		},
		{
			name: "PercentEncoded",
			in:   "PKCS11:token=My%20Token;object=Jos%C3%A9%3Bkey;id=%01%02%ff;type=private?pin-source=file:/run/secrets/pin",
			want: &URI{Token: "My Token", Object: "José;key", ID: []byte{1, 2, 0xff}, Type: "private", PINSource: "file:/run/secrets/pin"},
		},
		{
			name: "RFCExample",
			in:   "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=",
			want: &URI{Token: "The Software PKCS#11 Softtoken", Manufacturer: "Snake Oil, Inc.", Model: "1.0", Object: "my-certificate", Type: "cert", ID: []byte{0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91}},
		},
		{name: "Empty", in: "pkcs11:", want: &URI{}},
		{
			name: "SlotAndVendor",
			in:   "pkcs11:slot-id=3;x-color=blue?module-name=softhsm2&x-mode=fast",
			want: &URI{SlotID: "3", ModuleName: "softhsm2", Vendor: []VendorAttribute{{Name: "x-color", Value: "blue"}, {Query: true, Name: "x-mode", Value: "fast"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseURI(tt.in)
			if err != nil {
				t.Fatalf("ParseURI(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseURI(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			again, err := ParseURI(got.String())
			if err != nil {
				t.Fatalf("ParseURI(%q) of String = %v", got.String(), err)
			}
			if diff := cmp.Diff(got, again, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip through %q mismatch (-first +second):\n%s", got.String(), diff)
			}
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"NoScheme", "token=sello"},
		{"OtherScheme", "pkcs12:token=sello"},
		{"Fragment", "pkcs11:token=sello#x"},
		{"NoValue", "pkcs11:token"},
		{"EmptyName", "pkcs11:=x"},
		{"Repeated", "pkcs11:token=a;token=b"},
		{"RepeatedQuery", "pkcs11:?pin-value=1&pin-value=2"},
		{"UnknownPath", "pkcs11:color=blue"},
		{"UnknownQuery", "pkcs11:?color=blue"},
		{"QueryAttrInPath", "pkcs11:module-path=/x.so"},
		{"PathAttrInQuery", "pkcs11:?token=sello"},
		{"BadEscape", "pkcs11:token=%zz"},
		{"TruncatedEscape", "pkcs11:token=a%2"},
		{"BadType", "pkcs11:type=key"},
		{"BadSlot", "pkcs11:slot-id=-1"},
		{"PaddedSlot", "pkcs11:slot-id=01"},
		{"BothPINs", "pkcs11:?pin-value=1&pin-source=/f"},
		{"TooLong", "pkcs11:token=" + strings.Repeat("a", maxURILen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if u, err := ParseURI(tt.in); !errors.Is(err, ErrURI) {
				t.Errorf("ParseURI(%q) = %+v, %v; want %v", tt.in, u, err, ErrURI)
			}
		})
	}
}

func TestURILogValueRedactsPIN(t *testing.T) {
	t.Parallel()
	u, err := ParseURI("pkcs11:token=sello?pin-value=s3cr3t-pin")
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("key", "uri", u)
	if strings.Contains(buf.String(), "s3cr3t-pin") || !strings.Contains(buf.String(), "redacted") {
		t.Errorf("log line %q shows the PIN or lacks [redacted]", buf.String())
	}
}

// FuzzParseURI checks that ParseURI never panics and that every URI it
// accepts survives String and a second ParseURI unchanged.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=sello;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
		"pkcs11:token=My%20Token;id=%01%02;type=private?pin-source=file:/run/pin",
		"pkcs11:slot-id=3;x-a=b?x-c=d&module-name=p11",
		"pkcs11:",
		"pkcs11:token=a;token=b",
		"pkcs11:object=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !errors.Is(err, ErrURI) {
				t.Fatalf("ParseURI(%q) error %v does not wrap ErrURI", s, err)
			}
			return
		}
		out := u.String()
		again, err := ParseURI(out)
		if err != nil {
			t.Fatalf("ParseURI(%q) = %v, for String of ParseURI(%q)", out, err, s)
		}
		if diff := cmp.Diff(u, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip of %q through %q mismatch (-first +second):\n%s", s, out, diff)
		}
		if out2 := again.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
	})
}
