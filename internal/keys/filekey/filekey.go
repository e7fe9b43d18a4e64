// Package filekey loads signing keys from files: a PEM private key (PKCS#1,
// PKCS#8 or SEC 1; PKCS#8 may be encrypted with PBES2) with a PEM
// certificate chain, or a PKCS#12 file (RFC 7292). The loaded key lives in memory; [Provider] hands it out as a
// keys.Provider.
package filekey

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"software.sslmate.com/src/go-pkcs12"

	"sello/internal/keys"
)

// Errors callers may branch on.
var (
	// ErrKeyMismatch reports a certificate file with no certificate for
	// the private key.
	ErrKeyMismatch = errors.New("filekey: no certificate matches the private key")
	// ErrNoKey reports a key file without a private key.
	ErrNoKey = errors.New("filekey: no private key found")
	// ErrNoCertificate reports a certificate file without a certificate.
	ErrNoCertificate = errors.New("filekey: no certificate found")
	// ErrEncrypted reports an encrypted PEM private key that cannot be
	// read: no password given, or a scheme other than PBES2 with PBKDF2
	// and AES-CBC (such as legacy "Proc-Type: 4,ENCRYPTED" keys).
	ErrEncrypted = errors.New("filekey: cannot decrypt the PEM private key")
	// ErrUnsupportedKey reports a key that is neither RSA nor ECDSA.
	ErrUnsupportedKey = errors.New("filekey: unsupported key type")
	// ErrBadPassword reports a PKCS#12 file or an encrypted PEM key the
	// password does not open.
	ErrBadPassword = errors.New("filekey: wrong key password")
)

// LoadPEM reads a private key from keyFile (PEM blocks "PRIVATE KEY",
// "RSA PRIVATE KEY" or "EC PRIVATE KEY"; other blocks such as "EC
// PARAMETERS" are skipped) and a certificate chain from certFile (PEM
// "CERTIFICATE" blocks in any order; keyFile and certFile may be the same
// file). The returned chain starts with the key's certificate, followed by
// its issuers in order. Errors wrap ErrNoKey, ErrEncrypted,
// ErrUnsupportedKey, ErrNoCertificate or ErrKeyMismatch, or come from the
// file system.
func LoadPEM(keyFile, certFile string) (*keys.Key, error) {
	return loadPEM(keyFile, certFile, nil)
}

// LoadEncryptedPEM is LoadPEM for a key that may be an "ENCRYPTED PRIVATE
// KEY" (PKCS#8 with PBES2: PBKDF2 and AES-CBC, RFC 8018), as openssl
// writes with -aes256. A wrong password gives ErrBadPassword; other schemes,
// such as the legacy "Proc-Type: 4,ENCRYPTED" headers, give ErrEncrypted.
func LoadEncryptedPEM(keyFile, certFile, password string) (*keys.Key, error) {
	return loadPEM(keyFile, certFile, &password)
}

func loadPEM(keyFile, certFile string, password *string) (*keys.Key, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("filekey: %w", err)
	}
	signer, err := parsePrivateKey(kb, password)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, keyFile)
	}
	cb := kb
	if certFile != keyFile {
		if cb, err = os.ReadFile(certFile); err != nil {
			return nil, fmt.Errorf("filekey: %w", err)
		}
	}
	certs, err := parseCertificates(cb)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, certFile)
	}
	chain, err := orderChain(signer, certs)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, certFile)
	}
	return &keys.Key{Signer: signer, Chain: chain}, nil
}

// LoadPKCS12 reads a PKCS#12 file holding one private key, its certificate
// and optionally CA certificates. Errors wrap ErrBadPassword,
// ErrUnsupportedKey or ErrKeyMismatch, or come from the file system or the
// PKCS#12 decoder.
func LoadPKCS12(file, password string) (*keys.Key, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("filekey: %w", err)
	}
	priv, cert, cas, err := pkcs12.DecodeChain(b, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, fmt.Errorf("%w (%s)", ErrBadPassword, file)
	}
	if err != nil {
		return nil, fmt.Errorf("filekey: decode %s: %w", file, err)
	}
	signer, err := checkSigner(priv)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, file)
	}
	chain, err := orderChain(signer, append([]*x509.Certificate{cert}, cas...))
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, file)
	}
	return &keys.Key{Signer: signer, Chain: chain}, nil
}

func parsePrivateKey(b []byte, password *string) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, ErrNoKey
		}
		var key any
		var err error
		switch blk.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			if _, ok := blk.Headers["DEK-Info"]; ok {
				return nil, ErrEncrypted
			}
			key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			if _, ok := blk.Headers["DEK-Info"]; ok {
				return nil, ErrEncrypted
			}
			key, err = x509.ParseECPrivateKey(blk.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			if password == nil {
				return nil, fmt.Errorf("%w: the key needs a password", ErrEncrypted)
			}
			key, err = decryptPKCS8(blk.Bytes, *password)
		default:
			continue
		}
		if errors.Is(err, ErrBadPassword) || errors.Is(err, ErrEncrypted) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("filekey: parse %s: %w", blk.Type, err)
		}
		return checkSigner(key)
	}
}

func checkSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
}

func parseCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("filekey: parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	return certs, nil
}

// orderChain puts the certificate of signer's public key first, then
// follows issuer links through certs; certificates off that path are
// appended in file order.
func orderChain(signer crypto.Signer, certs []*x509.Certificate) ([]*x509.Certificate, error) {
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, ErrUnsupportedKey
	}
	leaf := -1
	for i, c := range certs {
		if c != nil && pub.Equal(c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return nil, ErrKeyMismatch
	}
	used := make([]bool, len(certs))
	used[leaf] = true
	chain := []*x509.Certificate{certs[leaf]}
	for cur := certs[leaf]; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		next := -1
		for i, c := range certs {
			if !used[i] && c != nil && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		cur = certs[next]
		chain = append(chain, cur)
	}
	for i, c := range certs {
		if !used[i] && c != nil {
			chain = append(chain, c)
		}
	}
	return chain, nil
}

// Options name the files a Provider loads: either KeyFile and CertFile, or
// PKCS12File. Password opens the PKCS#12 file or an encrypted PEM key.
type Options struct {
	KeyFile    string
	CertFile   string // empty: the certificates are in KeyFile
	PKCS12File string
	Password   string
}

// LogValue redacts the password.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("key_file", o.KeyFile),
		slog.String("cert_file", o.CertFile),
		slog.String("pkcs12_file", o.PKCS12File),
		slog.String("password", "[redacted]"),
	)
}

// Provider hands out a key loaded once from files. It is safe for
// concurrent use.
type Provider struct {
	key *keys.Key
}

var _ keys.Provider = (*Provider)(nil)

// NewProvider loads the key the options name. Errors are those of LoadPEM
// or LoadPKCS12, or a complaint about the options.
func NewProvider(opts Options) (*Provider, error) {
	var key *keys.Key
	var err error
	switch {
	case opts.PKCS12File != "" && opts.KeyFile != "":
		return nil, errors.New("filekey: give either a PKCS#12 file or a PEM key file, not both")
	case opts.PKCS12File != "":
		key, err = LoadPKCS12(opts.PKCS12File, opts.Password)
	case opts.KeyFile != "":
		cf := opts.CertFile
		if cf == "" {
			cf = opts.KeyFile
		}
		if opts.Password != "" {
			key, err = LoadEncryptedPEM(opts.KeyFile, cf, opts.Password)
		} else {
			key, err = LoadPEM(opts.KeyFile, cf)
		}
	default:
		return nil, errors.New("filekey: no key file given")
	}
	if err != nil {
		return nil, err
	}
	return &Provider{key: key}, nil
}

// Key returns the loaded key, or ctx's error when ctx is done.
func (p *Provider) Key(ctx context.Context) (*keys.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.key, nil
}

// LogValue shows the certificate subject, never the key.
func (p *Provider) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("subject", p.key.Certificate().Subject.String()),
		slog.String("key", "[redacted]"),
	)
}
