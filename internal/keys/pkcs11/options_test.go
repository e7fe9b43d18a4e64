package pkcs11

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte("4321\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		if name == "PIN" {
			return "5555", true
		}
		return "", false
	}
	slot := 7
	const mod = "/usr/lib/softhsm/libsofthsm2.so"
	tests := []struct {
		name string
		opts Options
		want *config
	}{
		{
			name: "URI",
			opts: Options{URI: "pkcs11:token=sello;object=signer;id=%01?module-path=" + mod + "&pin-value=1234"},
			want: &config{module: mod, tokenLabel: "sello", keyLabel: "signer", keyID: []byte{1}, pin: "1234"},
		},
		{
			name: "URIPinSource",
			opts: Options{URI: "pkcs11:slot-id=7;object=signer?module-path=" + mod + "&pin-source=file://" + pinFile, MaxSessions: 8},
			want: &config{module: mod, slot: &slot, keyLabel: "signer", pin: "4321", maxSessions: 8},
		},
		{
			name: "URIAndAgreeingFields",
			opts: Options{URI: "pkcs11:token=sello;object=signer", ModulePath: mod, TokenLabel: "sello", PINEnv: "PIN", LookupEnv: env},
			want: &config{module: mod, tokenLabel: "sello", keyLabel: "signer", pin: "5555"},
		},
		{
			name: "Fields",
			opts: Options{ModulePath: mod, TokenSerial: "abc", KeyLabel: "signer", PINFile: pinFile, CertificateFile: "/etc/c.pem"},
			want: &config{module: mod, tokenSerial: "abc", keyLabel: "signer", pin: "4321", certFile: "/etc/c.pem"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.opts.resolve()
			if err != nil {
				t.Fatalf("resolve = %v", err)
			}
			if tt.want.maxSessions == 0 {
				tt.want.maxSessions = DefaultMaxSessions
			}
			tt.want.poolWait = DefaultPoolWaitTimeout
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("resolve mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	const mod = "/usr/lib/softhsm/libsofthsm2.so"
	good := Options{ModulePath: mod, TokenLabel: "sello", KeyLabel: "signer", PIN: "1234"}
	with := func(edit func(*Options)) Options { o := good; edit(&o); return o }
	tests := []struct {
		name    string
		opts    Options
		want    error
		wantMsg string // a word the message must contain
	}{
		{"NoModule", with(func(o *Options) { o.ModulePath = "" }), ErrConfig, "module"},
		{"ModuleName", Options{URI: "pkcs11:token=a;object=b?module-name=softhsm2&pin-value=1"}, ErrConfig, "module-name"},
		{"NoToken", with(func(o *Options) { o.TokenLabel = "" }), ErrConfig, "token"},
		{"TwoTokens", with(func(o *Options) { o.TokenSerial = "1" }), ErrConfig, "token"},
		{"NoKey", with(func(o *Options) { o.KeyLabel = "" }), ErrConfig, "key"},
		{"NoPIN", with(func(o *Options) { o.PIN = "" }), ErrConfig, "PIN"},
		{"TwoPINs", with(func(o *Options) { o.PINEnv = "X" }), ErrConfig, "PIN"},
		{"PINEnvUnset", with(func(o *Options) {
			o.PIN, o.PINEnv, o.LookupEnv = "", "NOPE", func(string) (string, bool) { return "", false }
		}), ErrConfig, "NOPE"},
		{"PINFileMissing", with(func(o *Options) { o.PIN, o.PINFile = "", "/nonexistent/pin" }), ErrConfig, "PIN file"},
		{"PINSourceRelative", Options{URI: "pkcs11:token=a;object=b?module-path=/m.so&pin-source=pin.txt"}, ErrConfig, "pin-source"},
		{"PINSourceOtherHost", Options{URI: "pkcs11:token=a;object=b?module-path=/m.so&pin-source=file://host/pin"}, ErrConfig, "host"},
		{"URIDisagrees", with(func(o *Options) { o.URI = "pkcs11:token=other" }), ErrConfig, "differ"},
		{"IDDisagrees", with(func(o *Options) { o.KeyID, o.URI = []byte{1}, "pkcs11:id=%02" }), ErrConfig, "differ"},
		{"PublicType", with(func(o *Options) { o.URI = "pkcs11:type=public" }), ErrConfig, "type"},
		{"OneSession", with(func(o *Options) { o.MaxSessions = 1 }), ErrConfig, "sessions"},
		{"BadURI", Options{URI: "file:/x"}, ErrURI, "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.opts.resolve()
			if !errors.Is(err, tt.want) {
				t.Fatalf("resolve = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("resolve = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestOptionsLogValueRedacts(t *testing.T) {
	t.Parallel()
	o := Options{URI: "pkcs11:token=a?pin-value=uri-secret", PIN: "field-secret"}
	got := o.LogValue().String()
	for _, secret := range []string{"uri-secret", "field-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("LogValue = %q shows %q", got, secret)
		}
	}
}
