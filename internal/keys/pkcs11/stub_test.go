//go:build !cgo

package pkcs11

import (
	"errors"
	"testing"
)

func TestOpenWithoutCgo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"Valid", Options{URI: "pkcs11:token=sello;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234"}, ErrNotSupported},
		{"Invalid", Options{URI: "pkcs11:token=sello"}, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Open(tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}
