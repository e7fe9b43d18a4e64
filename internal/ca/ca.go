package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"sello/internal/keys"
)

// DefaultSubject is the common name of a CA created by LoadOrCreate when
// Options.Subject is empty.
const DefaultSubject = "Sello Development CA"

// ErrInvalidPerson reports a person whose data cannot go into a
// certificate: no name, an unknown identification type, or an
// identification number or country that a certificate cannot carry.
var ErrInvalidPerson = errors.New("ca: invalid person data")

// ErrInvalidCA reports CA files or a CA certificate that cannot be used: a
// key that does not match the certificate, a certificate that is not a CA,
// or only one of the two files present.
var ErrInvalidCA = errors.New("ca: invalid CA key or certificate")

var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// Options configure a CA. The zero value is usable.
type Options struct {
	// Subject is the common name of a CA that LoadOrCreate creates; empty
	// means DefaultSubject.
	Subject string
	// Organization and Country go into the subject (O, C) of the CA that
	// LoadOrCreate creates and of every issued certificate. Country is
	// also the default country of a person's identifier.
	Organization string
	Country      string
	// Validity is the lifetime of issued certificates; zero means one
	// hour.
	Validity time.Duration
	// CAValidity is the lifetime of a CA that LoadOrCreate creates; zero
	// means ten years.
	CAValidity time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of serial numbers; nil means crypto/rand.Reader.
	// Key generation always uses crypto/rand.
	Rand io.Reader
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) rand() io.Reader {
	if o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

// CA issues certificates with one signing key. It is safe for concurrent
// use when its signer is.
type CA struct {
	signer crypto.Signer
	cert   *x509.Certificate
	opts   Options
}

// New returns a CA that signs with an external key, from a file or a
// PKCS#11 token, certified by cert. A signer that does not match cert
// makes Issue fail.
func New(signer crypto.Signer, cert *x509.Certificate, opts Options) *CA {
	return &CA{signer: signer, cert: cert, opts: opts}
}

// Certificate returns the CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// Person is the validated holder of an issued certificate.
type Person struct {
	// Name is the full name, the subject CN.
	Name string
	// IDType is the kind of identification document: an EN 319 412-1
	// three-letter type (IDC, PAS, PNO, TAX, TIN) or a common local name
	// that maps onto one (CC, CE, DNI, TI, NIT, RUT, passport ...). An
	// empty type gives a bare serialNumber (see SerialNumber).
	IDType string
	// IDNumber is the document number.
	IDNumber string
	// Email, when set, goes into the subject alternative name.
	Email string
	// Country is the ISO 3166 code of the issuing country; empty means
	// Options.Country.
	Country string
}

// IssueOptions vary a single issuance.
type IssueOptions struct {
	// RSA makes an RSA-2048 key instead of ECDSA P-256.
	RSA bool
	// EmailProtection adds the emailProtection extended key usage.
	EmailProtection bool
}

// idTypes maps identification document names onto EN 319 412-1 §5.1.3
// types.
var idTypes = map[string]string{
	"IDC": "IDC", "PAS": "PAS", "PNO": "PNO", "TAX": "TAX", "TIN": "TIN",
	"CC": "IDC", "CE": "IDC", "TI": "IDC", "DNI": "IDC", "ID": "IDC", "CI": "IDC",
	"CPF": "TAX", "NIT": "TAX", "RUT": "TAX", "RUC": "TAX", "NIF": "TAX",
	"PP": "PAS", "PA": "PAS", "PASSPORT": "PAS", "PASAPORTE": "PAS",
}

// SerialNumber returns the subject serialNumber for the person. With a
// known identification type and a country (the person's, else
// defaultCountry) it is the ETSI EN 319 412-1 §5.1.3 semantic identifier,
// such as "IDCCO-1020304050"; with no type or no country, rather than guess
// them, it is the bare number. Errors wrap ErrInvalidPerson: an unknown
// type, no number, a number with characters other than letters, digits,
// '-', '.' and '/', or a person's country that is not an ISO 3166 alpha-2
// code.
func (p Person) SerialNumber(defaultCountry string) (string, error) {
	num := strings.TrimSpace(p.IDNumber)
	if num == "" || len(num) > 50 {
		return "", fmt.Errorf("%w: identification number must have 1 to 50 characters", ErrInvalidPerson)
	}
	for _, r := range num {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '.' || r == '/') {
			return "", fmt.Errorf("%w: identification number holds %q", ErrInvalidPerson, r)
		}
	}
	country := strings.ToUpper(strings.TrimSpace(p.Country))
	if country != "" && (len(country) != 2 || !isUpperAlpha(country)) {
		return "", fmt.Errorf("%w: country %q is not an ISO 3166 alpha-2 code", ErrInvalidPerson, p.Country)
	}
	if country == "" {
		country = strings.ToUpper(strings.TrimSpace(defaultCountry))
	}
	rawType := strings.ToUpper(strings.TrimSpace(p.IDType))
	typ, ok := idTypes[rawType]
	if !ok && rawType != "" {
		return "", fmt.Errorf("%w: identification type %q", ErrInvalidPerson, p.IDType)
	}
	if !ok || len(country) != 2 || !isUpperAlpha(country) {
		return num, nil
	}
	return typ + country + "-" + num, nil
}

func isUpperAlpha(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// maxCommonName is RFC 5280's upper bound on commonName (ub-common-name),
// in characters.
const maxCommonName = 64

// commonName returns name, cut to maxCommonName characters when longer.
// The certificate's name is then shortened; the signature's /Name, the
// stamp and the audit log still carry the whole validated name.
func commonName(name string) string {
	if utf8.RuneCountInString(name) <= maxCommonName {
		return name
	}
	runes := []rune(name)[:maxCommonName]
	return strings.TrimSpace(string(runes))
}

// Issue creates a fresh key and a certificate for it that names p: subject
// CN (the name, cut to 64 characters), serialNumber (see Person.SerialNumber), O and C; key usage digitalSignature and
// contentCommitment; extended key usage document signing (plus
// emailProtection when asked); valid from a minute ago for
// Options.Validity; a random 128-bit serial number. The key is kept only in
// memory. It returns Key{Signer, Chain: [leaf, CA certificate]}. Errors wrap
// ErrInvalidPerson, come from ctx, or from the CA signer.
func (c *CA) Issue(ctx context.Context, p Person, opts IssueOptions) (*keys.Key, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" {
		return nil, fmt.Errorf("%w: no name", ErrInvalidPerson)
	}
	sn, err := p.SerialNumber(c.opts.Country)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	if opts.RSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: generate key: %w", err)
	}
	serial, err := randomSerial(c.opts.rand())
	if err != nil {
		return nil, err
	}
	now := c.opts.now()
	validity := c.opts.Validity
	if validity <= 0 {
		validity = time.Hour
	}
	subject := pkix.Name{CommonName: commonName(name), SerialNumber: sn}
	if c.opts.Organization != "" {
		subject.Organization = []string{c.opts.Organization}
	}
	// C is the CA's country when configured, else the country that issued
	// the person's identification, when known.
	switch {
	case c.opts.Country != "":
		subject.Country = []string{strings.ToUpper(c.opts.Country)}
	case p.Country != "":
		subject.Country = []string{strings.ToUpper(strings.TrimSpace(p.Country))}
	}
	eku := []x509.ExtKeyUsage(nil)
	if opts.EmailProtection {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		SubjectKeyId:          keyID(key.Public()),
	}
	if p.Email != "" {
		tmpl.EmailAddresses = []string{p.Email}
	}
	leaf, err := c.sign(ctx, tmpl, key.Public())
	if err != nil {
		return nil, err
	}
	return &keys.Key{Signer: key, Chain: []*x509.Certificate{leaf, c.cert}}, nil
}

// sign makes a certificate from tmpl for pub, signed by the CA.
func (c *CA) sign(ctx context.Context, tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.signer == nil || c.cert == nil {
		return nil, fmt.Errorf("%w: no CA key", ErrInvalidCA)
	}
	der, err := x509.CreateCertificate(c.opts.rand(), tmpl, c.cert, pub, c.signer)
	if err != nil {
		return nil, fmt.Errorf("ca: sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse new certificate: %w", err)
	}
	return cert, nil
}

// randomSerial returns a positive 128-bit serial number (RFC 5280 §4.1.2.2
// allows up to 20 octets).
func randomSerial(r io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("ca: read serial number: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // keep a full 16 octets and never zero
	return new(big.Int).SetBytes(b), nil
}

// keyID returns the RFC 5280 §4.2.1.2 method (1) key identifier: SHA-1 of
// the subjectPublicKey bits.
func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:]
}
