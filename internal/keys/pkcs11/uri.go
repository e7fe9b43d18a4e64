package pkcs11

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// ErrURI reports a PKCS#11 URI that does not follow RFC 7512 or names an
// attribute this package does not know.
var ErrURI = errors.New("pkcs11: invalid PKCS#11 URI")

// maxURILen caps the length of a URI accepted by [ParseURI].
const maxURILen = 4096

// URI is a parsed PKCS#11 URI (RFC 7512). Path attributes select a token
// and an object; query attributes say how to reach them. Empty fields were
// absent. Vendor attributes (names starting with "x-") are kept in Vendor
// in their order of appearance.
type URI struct {
	// Path attributes (RFC 7512 §2.3).
	Token               string // token label
	Manufacturer        string // token manufacturer
	Serial              string // token serial number
	Model               string // token model
	LibraryManufacturer string
	LibraryDescription  string
	LibraryVersion      string
	SlotDescription     string
	SlotManufacturer    string
	SlotID              string // decimal slot number
	Object              string // object label (CKA_LABEL)
	ID                  []byte // object id (CKA_ID), raw bytes
	Type                string // cert, data, private, public or secret-key

	// Query attributes (RFC 7512 §2.3).
	PINSource  string // where to read the PIN: a file path or a file: URI
	PINValue   string // the PIN itself
	ModuleName string // module name, without path or suffix
	ModulePath string // absolute path of the module library

	// Vendor holds x- attributes: path ones first, then query ones.
	Vendor []VendorAttribute
}

// VendorAttribute is one vendor-specific "x-" attribute of a [URI].
type VendorAttribute struct {
	Query bool // a query attribute, not a path attribute
	Name  string
	Value string
}

// pathAttrs and queryAttrs map attribute names to the URI fields they fill.
func (u *URI) pathAttrs() map[string]*string {
	return map[string]*string{
		"token": &u.Token, "manufacturer": &u.Manufacturer, "serial": &u.Serial, "model": &u.Model,
		"library-manufacturer": &u.LibraryManufacturer, "library-description": &u.LibraryDescription,
		"library-version": &u.LibraryVersion, "slot-description": &u.SlotDescription,
		"slot-manufacturer": &u.SlotManufacturer, "slot-id": &u.SlotID, "object": &u.Object, "type": &u.Type,
	}
}

func (u *URI) queryAttrs() map[string]*string {
	return map[string]*string{
		"pin-source": &u.PINSource, "pin-value": &u.PINValue,
		"module-name": &u.ModuleName, "module-path": &u.ModulePath,
	}
}

// pathOrder and queryOrder fix the order in which String writes attributes.
var (
	pathOrder = []string{"token", "manufacturer", "serial", "model", "library-manufacturer",
		"library-description", "library-version", "slot-description", "slot-manufacturer",
		"slot-id", "object", "type"}
	queryOrder = []string{"module-name", "module-path", "pin-source", "pin-value"}
)

// ParseURI parses a PKCS#11 URI such as
//
//	pkcs11:token=sello;object=signer;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin
//
// following RFC 7512: the scheme is case-insensitive, path attributes are
// separated by ";", query attributes by "&", values are percent-decoded, and
// no attribute may repeat. Unknown attributes other than vendor "x-" ones
// are refused, as are pin-value together with pin-source, an unknown type
// and a slot-id that is not a decimal number. Errors wrap [ErrURI].
func ParseURI(s string) (*URI, error) {
	if len(s) > maxURILen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrURI, maxURILen)
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(scheme, "pkcs11") {
		return nil, fmt.Errorf("%w: scheme is not pkcs11", ErrURI)
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, fmt.Errorf("%w: fragment not allowed", ErrURI)
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &URI{}
	if err := u.parseAttrs(path, ";", false); err != nil {
		return nil, err
	}
	if err := u.parseAttrs(query, "&", true); err != nil {
		return nil, err
	}
	if u.SlotID != "" {
		if n, err := strconv.ParseUint(u.SlotID, 10, 32); err != nil || strconv.FormatUint(n, 10) != u.SlotID {
			return nil, fmt.Errorf("%w: slot-id %q is not a decimal number", ErrURI, u.SlotID)
		}
	}
	switch u.Type {
	case "", "cert", "data", "private", "public", "secret-key":
	default:
		return nil, fmt.Errorf("%w: unknown object type %q", ErrURI, u.Type)
	}
	if u.PINValue != "" && u.PINSource != "" {
		return nil, fmt.Errorf("%w: both pin-value and pin-source", ErrURI)
	}
	return u, nil
}

func (u *URI) parseAttrs(s, sep string, query bool) error {
	if s == "" {
		return nil
	}
	known := u.pathAttrs()
	if query {
		known = u.queryAttrs()
	}
	seen := make(map[string]bool)
	for attr := range strings.SplitSeq(s, sep) {
		name, raw, ok := strings.Cut(attr, "=")
		if !ok || name == "" {
			return fmt.Errorf("%w: attribute %q is not name=value", ErrURI, attr)
		}
		if seen[name] {
			return fmt.Errorf("%w: attribute %q repeats", ErrURI, name)
		}
		seen[name] = true
		value, err := url.PathUnescape(raw)
		if err != nil {
			return fmt.Errorf("%w: attribute %q: bad percent-encoding", ErrURI, name)
		}
		switch {
		case !query && name == "id":
			u.ID = []byte(value)
		case known[name] != nil:
			*known[name] = value
		case strings.HasPrefix(name, "x-"):
			u.Vendor = append(u.Vendor, VendorAttribute{Query: query, Name: name, Value: value})
		default:
			return fmt.Errorf("%w: unknown attribute %q", ErrURI, name)
		}
	}
	return nil
}

// String returns the URI in RFC 7512 form, values percent-encoded, so that
// ParseURI(u.String()) equals u. Standard attributes with empty values are
// omitted, as if absent. It includes pin-value: do not
// log it; use LogValue.
func (u *URI) String() string {
	return u.format(false)
}

// LogValue returns the URI with pin-value replaced by [redacted].
func (u *URI) LogValue() slog.Value {
	return slog.StringValue(u.format(true))
}

func (u *URI) format(redact bool) string {
	var b strings.Builder
	b.WriteString("pkcs11:")
	sep := ""
	add := func(name, value string, query bool) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(escape(value, query))
		sep = ";"
		if query {
			sep = "&"
		}
	}
	path := u.pathAttrs()
	for _, name := range pathOrder {
		if v := *path[name]; v != "" {
			add(name, v, false)
		}
	}
	if len(u.ID) > 0 {
		add("id", string(u.ID), false)
	}
	for _, a := range u.Vendor {
		if !a.Query {
			add(a.Name, a.Value, false)
		}
	}
	sep = "?"
	query := u.queryAttrs()
	for _, name := range queryOrder {
		v := *query[name]
		if v == "" {
			continue
		}
		if redact && name == "pin-value" {
			v = "[redacted]"
		}
		add(name, v, true)
	}
	for _, a := range u.Vendor {
		if a.Query {
			add(a.Name, a.Value, true)
		}
	}
	return b.String()
}

// escape percent-encodes every byte of s except RFC 3986 unreserved
// characters and, in a query value, "/" (RFC 7512 §2.3 allows it there).
func escape(s string, query bool) string {
	var b bytes.Buffer
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || (query && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
