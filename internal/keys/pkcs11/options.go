package pkcs11

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Errors returned by [Open] and [Store], wrapped.
var (
	// ErrConfig reports options that do not name one key in one token.
	ErrConfig = errors.New("pkcs11: invalid configuration")
	// ErrKeyNotFound reports that the token has no key pair (or no
	// certificate) with the configured label or id.
	ErrKeyNotFound = errors.New("pkcs11: key not found")
	// ErrNotSupported reports a build without cgo, which cannot load
	// PKCS#11 modules.
	ErrNotSupported = errors.New("pkcs11: not supported in this build (built without cgo)")
)

// Defaults for the zero values of [Options].
const (
	DefaultMaxSessions     = 4
	DefaultPoolWaitTimeout = 30 * time.Second
)

// Options configures [Open]. Either URI or the fields give the module, the
// token, the key and the PIN; a value given both ways must agree.
type Options struct {
	// URI is an RFC 7512 URI naming the token (token, serial or slot-id),
	// the key (object and/or id, type private or absent), the module
	// (module-path) and the PIN (pin-value or pin-source).
	URI string

	// ModulePath is the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so.
	ModulePath string
	// TokenLabel or TokenSerial selects the token.
	TokenLabel  string
	TokenSerial string
	// KeyLabel (CKA_LABEL) and/or KeyID (CKA_ID) select the key pair.
	KeyLabel string
	KeyID    []byte

	// PIN is the user PIN. Exactly one of PIN, PINFile, PINEnv, and the
	// URI's pin-value and pin-source must be given.
	PIN string
	// PINFile is a file holding the PIN; a final newline is ignored.
	PINFile string
	// PINEnv is the name of an environment variable holding the PIN.
	PINEnv string
	// LookupEnv reads PINEnv; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)

	// CertificateFile is a PEM file with the key's certificate first and
	// then its chain. When empty, the certificate is read from the token:
	// the certificate object with the key's id, or else its label.
	CertificateFile string

	// MaxSessions caps the sessions open on the token (at least 2).
	MaxSessions int
	// PoolWaitTimeout bounds the wait for a free session.
	PoolWaitTimeout time.Duration
}

// LogValue shows the options with the PIN and the URI's pin-value redacted.
func (o Options) LogValue() slog.Value {
	uri := o.URI
	if u, err := ParseURI(o.URI); err == nil {
		uri = u.LogValue().String()
	} else if uri != "" {
		uri = "[unparsable]"
	}
	return slog.GroupValue(
		slog.String("uri", uri),
		slog.String("module_path", o.ModulePath),
		slog.String("token_label", o.TokenLabel),
		slog.String("key_label", o.KeyLabel),
		slog.String("pin", "[redacted]"),
		slog.String("pin_file", o.PINFile),
		slog.String("pin_env", o.PINEnv),
		slog.String("certificate_file", o.CertificateFile),
	)
}

// config is Options resolved: every choice made, the PIN read.
type config struct {
	module      string
	tokenLabel  string
	tokenSerial string
	slot        *int
	keyLabel    string
	keyID       []byte
	pin         string
	certFile    string
	maxSessions int
	poolWait    time.Duration
}

// resolve merges the URI into the fields, reads the PIN and checks that one
// key in one token is named. Every problem found is reported; the error
// wraps ErrConfig (or ErrURI for a bad URI).
func (o Options) resolve() (*config, error) {
	c := &config{
		module: o.ModulePath, tokenLabel: o.TokenLabel, tokenSerial: o.TokenSerial,
		keyLabel: o.KeyLabel, keyID: o.KeyID, certFile: o.CertificateFile,
		maxSessions: o.MaxSessions, poolWait: o.PoolWaitTimeout,
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	merge := func(what string, dst *string, v string) {
		switch {
		case v == "":
		case *dst == "":
			*dst = v
		case *dst != v:
			fail("%s %q in the URI and %q in the options differ", what, v, *dst)
		}
	}
	var pinSources []string
	if o.PIN != "" {
		pinSources = append(pinSources, "PIN")
	}
	if o.PINFile != "" {
		pinSources = append(pinSources, "PIN file")
	}
	if o.PINEnv != "" {
		pinSources = append(pinSources, "PIN environment variable")
	}
	var uriPINSource string
	if o.URI != "" {
		u, err := ParseURI(o.URI)
		if err != nil {
			return nil, err
		}
		merge("module-path", &c.module, u.ModulePath)
		merge("token", &c.tokenLabel, u.Token)
		merge("serial", &c.tokenSerial, u.Serial)
		merge("object", &c.keyLabel, u.Object)
		if len(u.ID) > 0 {
			if len(c.keyID) > 0 && !bytes.Equal(c.keyID, u.ID) {
				fail("id in the URI and in the options differ")
			}
			c.keyID = u.ID
		}
		if u.SlotID != "" {
			n, err := strconv.Atoi(u.SlotID)
			if err != nil {
				fail("slot-id %q is out of range", u.SlotID)
			}
			c.slot = &n
		}
		if u.ModuleName != "" && c.module == "" {
			fail("module-name is not supported: give module-path")
		}
		if u.Type != "" && u.Type != "private" {
			fail("type %q does not name a private key", u.Type)
		}
		if u.PINValue != "" {
			pinSources = append(pinSources, "URI pin-value")
			c.pin = u.PINValue
		}
		if u.PINSource != "" {
			pinSources = append(pinSources, "URI pin-source")
			uriPINSource = u.PINSource
		}
	}
	if c.module == "" {
		fail("no module path")
	}
	if n := countSet(c.tokenLabel != "", c.tokenSerial != "", c.slot != nil); n != 1 {
		fail("give exactly one of token label, token serial and slot id (got %d)", n)
	}
	if c.keyLabel == "" && len(c.keyID) == 0 {
		fail("no key label or id")
	}
	switch {
	case c.maxSessions == 0:
		c.maxSessions = DefaultMaxSessions
	case c.maxSessions < 2:
		fail("max sessions %d is below 2", c.maxSessions)
	}
	if c.poolWait <= 0 {
		c.poolWait = DefaultPoolWaitTimeout
	}
	if len(pinSources) != 1 {
		fail("give exactly one PIN source (got %d: %s)", len(pinSources), strings.Join(pinSources, ", "))
	} else {
		var err error
		switch {
		case o.PIN != "":
			c.pin = o.PIN
		case o.PINFile != "":
			c.pin, err = readPINFile(o.PINFile)
		case o.PINEnv != "":
			c.pin, err = lookupPIN(o.LookupEnv, o.PINEnv)
		case uriPINSource != "":
			c.pin, err = readPINSource(uriPINSource)
		}
		if err != nil {
			fail("%v", err)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return c, nil
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func readPINFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read PIN file: %w", err)
	}
	pin := strings.TrimRight(string(b), "\r\n")
	if pin == "" {
		return "", fmt.Errorf("PIN file %s is empty", path)
	}
	return pin, nil
}

// readPINSource reads an RFC 7512 pin-source: a file: URI or a file path.
func readPINSource(src string) (string, error) {
	if strings.HasPrefix(src, "file:") {
		u, err := url.Parse(src)
		if err != nil {
			return "", fmt.Errorf("pin-source %q: %w", src, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("pin-source %q names another host", src)
		}
		src = u.Path
		if src == "" {
			src = u.Opaque
		}
	}
	if !strings.HasPrefix(src, "/") {
		return "", fmt.Errorf("pin-source %q is not an absolute file path or file: URI", src)
	}
	return readPINFile(src)
}

func lookupPIN(lookup func(string) (string, bool), name string) (string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	pin, ok := lookup(name)
	if !ok || pin == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return pin, nil
}
