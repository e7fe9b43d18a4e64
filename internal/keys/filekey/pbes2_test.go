package filekey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"path/filepath"
	"testing"

	"sello/internal/pkitest"
)

// encryptPKCS8 writes PBES2 with PBKDF2-HMAC-SHA-1 (the default PRF, so
// the prf field is absent) and AES-128-CBC: the path openssl does not take
// by default.
func encryptPKCS8(t *testing.T, der []byte, password string) []byte {
	t.Helper()
	salt, iv := []byte("saltsalt"), []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha1.New, password, salt, 1000, 16)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(der)%aes.BlockSize
	plain := append(append([]byte{}, der...), make([]byte, pad)...)
	for i := len(der); i < len(plain); i++ {
		plain[i] = byte(pad)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	mustMarshal := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := mustMarshal(struct {
		Salt       []byte
		Iterations int
	}{salt, 1000})
	params := mustMarshal(pbes2Params{
		KeyDerivationFunc: algorithm{Algorithm: oidPBKDF2, Parameters: kdf},
		EncryptionScheme:  algorithm{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, Parameters: mustMarshal(iv)},
	})
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: algorithm{Algorithm: oidPBES2, Parameters: params}, EncryptedData: enc})
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("ENCRYPTED PRIVATE KEY", out)
}

func TestLoadEncryptedPEM(t *testing.T) {
	t.Parallel()
	key := pkitest.NewCA(t, pkitest.Options{}).Issue(t, pkitest.Options{KeyType: pkitest.RSA2048})
	plainFile, certFile := pkitest.WritePEM(t, key)
	der, err := x509.MarshalPKCS8PrivateKey(key.Signer)
	if err != nil {
		t.Fatal(err)
	}
	goFile := mustWrite(t, "go.pem", encryptPKCS8(t, der, "pässword"))

	tests := []struct {
		name     string
		file     func(t *testing.T) string
		password string
		want     error
	}{
		{"AES-128, SHA-1 PRF", func(*testing.T) string { return goFile }, "pässword", nil},
		{"wrong password", func(*testing.T) string { return goFile }, "password", ErrBadPassword},
		{"plain key with a password", func(*testing.T) string { return plainFile }, "ignored", nil},
		{"openssl AES-256", func(t *testing.T) string { return opensslEncrypt(t, plainFile, "pässword") }, "pässword", nil},
		{"openssl, wrong password", func(t *testing.T) string { return opensslEncrypt(t, plainFile, "pässword") }, "x", ErrBadPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadEncryptedPEM(tc.file(t), certFile, tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("LoadEncryptedPEM() = %v, want %v", err, tc.want)
			}
			if err == nil && !got.Certificate().Equal(key.Certificate()) {
				t.Error("wrong certificate")
			}
		})
	}
	t.Run("provider", func(t *testing.T) {
		t.Parallel()
		p, err := NewProvider(Options{KeyFile: goFile, CertFile: certFile, Password: "pässword"})
		if err != nil {
			t.Fatalf("NewProvider() = %v", err)
		}
		if got, err := p.Key(t.Context()); err != nil || !got.Certificate().Equal(key.Certificate()) {
			t.Errorf("Key() = %v, %v", got, err)
		}
	})
}

// opensslEncrypt encrypts a PEM key with openssl's defaults for -aes256
// (PBES2, PBKDF2-HMAC-SHA-256, AES-256-CBC).
func opensslEncrypt(t *testing.T, keyFile, password string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "enc.pem")
	pkitest.OpenSSL(t, "pkey", "-in", keyFile, "-aes256", "-passout", "pass:"+password, "-out", out)
	return out
}
