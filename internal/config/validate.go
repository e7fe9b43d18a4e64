package config

import (
	"encoding/base64"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// masterKeySize is the size of the decoded master key, the size the token
// service requires.
const masterKeySize = 32

// Validate checks every setting and how they fit together, and returns an
// *Error listing every problem, or nil. It does not touch files or the
// network: whether a file exists is found out when it is used.
func (c *Config) Validate() error {
	var ps problems

	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		ps.add("addr", "", "want host:port, such as 127.0.0.1:8080 or :8080")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		ps.add("addr", "", "the port must be a number from 0 to 65535")
	}
	if strings.TrimSpace(c.DataDir) == "" {
		ps.add("data-dir", "", "must not be empty")
	}
	if c.Issuer != "" {
		checkHTTPURL(&ps, "issuer", c.Issuer)
	}
	if c.Audience == "" {
		ps.add("audience", "", "must not be empty")
	}
	if c.MasterKey != "" {
		if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.MasterKey)); err != nil || len(k) != masterKeySize {
			ps.add("master-key", "", "want the standard base64 encoding of %d bytes", masterKeySize)
		}
	}

	if c.OIDC.Issuer != "" {
		checkHTTPURL(&ps, "oidc.issuer", c.OIDC.Issuer)
		for _, f := range []struct{ key, v string }{{"oidc.audience", c.OIDC.Audience},
			{"oidc.account-claim", c.OIDC.AccountClaim}, {"oidc.projects-claim", c.OIDC.ProjectsClaim}} {
			if f.v == "" {
				ps.add(f.key, "", "must not be empty when oidc.issuer is set")
			}
		}
	}
	if c.NoLocalTokens && c.OIDC.Issuer == "" {
		ps.add("no-local-tokens", "", "needs oidc.issuer: without it no token would be accepted")
	}

	atLeast(&ps, "token.ttl", c.Token.TTL, time.Second)
	atLeast(&ps, "token.leeway", c.Token.Leeway, 0)

	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		ps.add("tls", "", "give both tls.cert-file and tls.key-file, or neither")
	}

	atLeast(&ps, "http.read-header-timeout", c.HTTP.ReadHeaderTimeout, time.Second)
	atLeast(&ps, "http.read-timeout", c.HTTP.ReadTimeout, 0)
	atLeast(&ps, "http.write-timeout", c.HTTP.WriteTimeout, 0)
	atLeast(&ps, "http.idle-timeout", c.HTTP.IdleTimeout, 0)
	atLeast(&ps, "http.shutdown-timeout", c.HTTP.ShutdownTimeout, 0)

	oneOf(&ps, "log.format", c.Log.Format, "json", "text")
	oneOf(&ps, "log.level", c.Log.Level, "debug", "info", "warn", "error")

	s := c.Sign
	positive(&ps, "sign.max-document-bytes", int64(s.MaxDocumentBytes))
	positive(&ps, "sign.max-request-bytes", int64(s.MaxRequestBytes))
	positive(&ps, "sign.max-documents", int64(s.MaxDocuments))
	positive(&ps, "sign.max-field-bytes", int64(s.MaxFieldBytes))
	positive(&ps, "sign.memory-threshold", int64(s.MemoryThreshold))
	positive(&ps, "sign.memory-budget", int64(s.MemoryBudget))
	if s.MaxDocumentBytes > 0 && s.MaxRequestBytes > 0 && s.MaxDocumentBytes > s.MaxRequestBytes {
		ps.add("sign.max-document-bytes", "", "%s is larger than sign.max-request-bytes (%s)", s.MaxDocumentBytes, s.MaxRequestBytes)
	}
	if s.MemoryThreshold > 0 && s.MemoryBudget > 0 && s.MemoryThreshold > s.MemoryBudget {
		ps.add("sign.memory-threshold", "", "%s is larger than sign.memory-budget (%s)", s.MemoryThreshold, s.MemoryBudget)
	}
	nonNegative(&ps, "sign.max-concurrent", int64(s.MaxConcurrent))
	atLeast(&ps, "sign.queue-timeout", s.QueueTimeout, 0)
	oneOf(&ps, "sign.hash", s.Hash, "sha256", "sha384", "sha512")

	id := c.ID
	oneOf(&ps, "identity.provider", id.Provider, "embedded", "http")
	if id.Provider == "http" {
		if id.URL == "" {
			ps.add("identity.url", "", "required when identity.provider is http")
		} else {
			checkHTTPURL(&ps, "identity.url", id.URL)
		}
		atLeast(&ps, "identity.timeout", id.Timeout, time.Millisecond)
	}
	nonNegative(&ps, "identity.max-retries", int64(id.MaxRetries))

	oneOf(&ps, "cert.mode", c.Cert.Mode, "ondemand", "seal")
	keySource(&ps, "ca", c.CA.KeyFile, c.CA.PKCS11URI, c.CA.CertFile)
	if c.CA.Country != "" && !isCountry(c.CA.Country) {
		ps.add("ca.country", "", "want an ISO 3166 two-letter code such as CO or ES")
	}
	atLeast(&ps, "ca.validity", c.CA.Validity, time.Minute)
	oneOf(&ps, "ca.key-type", c.CA.KeyType, "ecdsa-p256", "rsa-2048")
	keySource(&ps, "seal", c.Seal.KeyFile, c.Seal.PKCS11URI, c.Seal.CertFile)
	if c.Cert.Mode == "seal" && c.Seal.KeyFile == "" && c.Seal.PKCS11URI == "" {
		ps.add("seal", "", "cert.mode seal needs seal.key-file or seal.pkcs11-uri")
	}
	for _, u := range []struct{ key, uri string }{{"ca.pkcs11-uri", c.CA.PKCS11URI}, {"seal.pkcs11-uri", c.Seal.PKCS11URI}} {
		if u.uri != "" && !strings.HasPrefix(u.uri, "pkcs11:") {
			ps.add(u.key, "", "want an RFC 7512 URI starting with pkcs11:")
		}
	}

	if c.TSA.URL != "" {
		checkHTTPURL(&ps, "tsa.url", c.TSA.URL)
		atLeast(&ps, "tsa.timeout", c.TSA.Timeout, time.Millisecond)
	}
	if c.TSA.Password != "" && c.TSA.Username == "" {
		ps.add("tsa.password", "", "given without tsa.username")
	}
	return ps.err()
}

func checkHTTPURL(ps *problems, key, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.add(key, "", "want an absolute http or https URL")
	}
}

func atLeast(ps *problems, key string, d, min time.Duration) {
	if d >= min {
		return
	}
	if min == 0 {
		ps.add(key, "", "must not be negative")
		return
	}
	ps.add(key, "", "must be at least %s", formatDuration(min))
}

func positive(ps *problems, key string, n int64) {
	if n <= 0 {
		ps.add(key, "", "must be greater than zero")
	}
}

func nonNegative(ps *problems, key string, n int64) {
	if n < 0 {
		ps.add(key, "", "must not be negative")
	}
}

func oneOf(ps *problems, key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	ps.add(key, "", "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// keySource checks one key's settings: a file or an HSM, not both, and a
// certificate only with a key.
func keySource(ps *problems, section, file, uri, cert string) {
	if file != "" && uri != "" {
		ps.add(section, "", "give %s.key-file or %s.pkcs11-uri, not both", section, section)
	}
	if cert != "" && file == "" && uri == "" {
		ps.add(section+".cert-file", "", "given without %s.key-file or %s.pkcs11-uri", section, section)
	}
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
