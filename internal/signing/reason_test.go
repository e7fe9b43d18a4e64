package signing

import (
	"errors"
	"fmt"
	"testing"

	"sello/internal/identity"
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
