package auth

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// testHashParams are cheap argon2id parameters for tests.
var testHashParams = HashParams{Memory: 64, Time: 1, Threads: 1}

func TestHashSecret(t *testing.T) {
	t.Parallel()
	h := newHasher(testHashParams, 2)
	secret, err := newSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 {
		t.Errorf("len(newSecret()) = %d, want 43 (256 bits in base64url)", len(secret))
	}
	stored, err := h.hash(t.Context(), secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q, want an argon2id PHC string with m=64,t=1,p=1", stored)
	}
	if strings.Contains(stored, secret) {
		t.Errorf("hash %q contains the secret", stored)
	}
	tests := []struct {
		name   string
		secret string
		want   bool
	}{
		{"right secret", secret, true},
		{"wrong secret", secret + "x", false},
		{"empty secret", "", false},
		{"prefix of the secret", secret[:42], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := h.verify(t.Context(), stored, tt.secret)
			if err != nil {
				t.Fatalf("verify = %v", err)
			}
			if got != tt.want {
				t.Errorf("verify(%q) = %v, want %v", tt.secret, got, tt.want)
			}
		})
	}
}

func TestParseHashRejects(t *testing.T) {
	t.Parallel()
	good, err := hashSecret("s", testHashParams, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	tests := []struct {
		name, hash string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuu"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"other version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Replace(good, "m=64", "m=4194304", 1)},
		{"zero time", strings.Replace(good, "t=1", "t=0", 1)},
		{"huge time", strings.Replace(good, "t=1", "t=1000", 1)},
		{"zero threads", strings.Replace(good, "p=1", "p=0", 1)},
		{"unknown param", strings.Replace(good, "p=1", "p=1,x=2", 1)},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$")},
		{"short key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$")},
		{"missing key", strings.Join(parts[:5], "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseHash(tt.hash); !errors.Is(err, errBadHash) {
				t.Errorf("parseHash(%q) = %v, want errBadHash", tt.hash, err)
			}
		})
	}
}

func BenchmarkVerifyDefaultParams(b *testing.B) {
	p := HashParams{}.withDefaults()
	stored, err := hashSecret("secret", p, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	h := newHasher(p, 1)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.verify(b.Context(), stored, "secret"); !ok || err != nil {
			b.Fatalf("verify = %v, %v", ok, err)
		}
	}
}

// FuzzParseHash checks that parsing a stored hash never panics and that
// whatever it accepts stays within the cost limits, so a damaged row can
// never make one verification eat the machine.
func FuzzParseHash(f *testing.F) {
	good, err := hashSecret("s", testHashParams, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", "$argon2id$", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			if !errors.Is(err, errBadHash) {
				t.Fatalf("parseHash(%q) = %v, want errBadHash", s, err)
			}
			return
		}
		p := h.params
		if p.Memory > maxHashMemory || p.Time > maxHashTime || p.Time < 1 || p.Threads < 1 || len(h.key) > 64 {
			t.Fatalf("parseHash(%q) accepted out-of-range parameters %+v", s, p)
		}
	})
}
