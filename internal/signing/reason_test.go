package signing

import (
	"errors"
	"fmt"
	"testing"

	"sello/internal/ca"
	"sello/internal/identity"
	"sello/internal/pades"
	"sello/internal/pdf"
)

// TestReasonTexts pins the errorReason texts: they are wire contract.
func TestReasonTexts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		want   string
		wantOK bool
	}{
		{"identity", fmt.Errorf("transaction 42: %w", identity.ErrNotValidated), "Identity validation error.", true},
		{"person cannot be certified", fmt.Errorf("issue certificate: %w", ca.ErrInvalidPerson), "Identity validation error.", true},
		{"not a PDF", fmt.Errorf("read header: %w", pdf.ErrNotPDF), "The document is not a PDF file.", true},
		{"junk before header", pdf.ErrJunkBeforeHeader, "The document has data before its PDF header and cannot be signed safely.", true},
		{"encrypted (pades)", pades.ErrEncrypted, "The document is encrypted and cannot be signed.", true},
		{"encrypted (pdf)", fmt.Errorf("open: %w", pdf.ErrEncrypted), "The document is encrypted and cannot be signed.", true},
		{"not permitted", pades.ErrNotPermitted, "The document's permissions do not allow signing.", true},
		{"certified", fmt.Errorf("sign: %w", pades.ErrCertified), "The document is certified against any change and cannot be signed.", true},
		{"page out of range (pades)", pades.ErrPageOutOfRange, "The signature page does not exist in the document.", true},
		{"page out of range (pdf)", pdf.ErrPageRange, "The signature page does not exist in the document.", true},
		{"rect outside page", pades.ErrRectOutsidePage, "The signature rectangle lies outside the page.", true},
		{"empty rect", pades.ErrEmptyRect, "The signature rectangle has zero area.", true},
		{"odd rotation", fmt.Errorf("%w: /Rotate 45", pades.ErrOddRotate), "The signature page's rotation is not a multiple of 90 degrees, so the signature cannot be placed on it.", true},
		{"truncated", pdf.ErrTruncated, "The document is incomplete (truncated) and cannot be signed.", true},
		{"damaged xref", pdf.ErrDamaged, "The document is damaged and cannot be signed.", true},
		{"unsupported filter", pdf.ErrUnsupportedFilter, "The document uses a compression the service does not support.", true},
		{"limit", pdf.ErrLimit, "The document exceeds the service's limits on PDF structure.", true},
		{"syntax error", fmt.Errorf("object 3: %w", &pdf.SyntaxError{Offset: 10, Msg: "bad"}), "The document is damaged and cannot be signed.", true},
		{"no key is a fault", pades.ErrNoKey, "", false},
		{"unknown error is a fault", errors.New("disk on fire"), "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Reason(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Reason(%v) = %q, %v; want %q, %v", tt.err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
