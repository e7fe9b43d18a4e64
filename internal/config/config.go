package config

import (
	"time"
)

// Config is every setting of sello serve. Each field with a key tag is one
// setting, declared once here with its default and help text; its flag,
// environment variable and file key follow from the key (see the package
// documentation). The zero value is not useful: use [Defaults] or [Load].
//
// A Config is a plain value: cmd/sello copies its fields into each
// package's Options, and no package below cmd/ sees it.
type Config struct {
	Addr      string `key:"addr" default:"127.0.0.1:8080" help:"address to listen on, host:port"`
	DataDir   string `key:"data-dir" default:"./sello-data" help:"data directory of the embedded store, its keys and the CA"`
	Issuer    string `key:"issuer" help:"base URL clients reach the service at, the tokens' iss; empty means http://ADDR"`
	Audience  string `key:"audience" default:"sello" help:"aud claim of issued tokens"`
	MasterKey string `key:"master-key" secret:"true" help:"base64 of the 32-byte key sealing token-signing keys; empty means DATA-DIR/master.key"`
	// NoLocalTokens refuses POST /token: only the OpenID provider's tokens
	// are accepted.
	NoLocalTokens bool `key:"no-local-tokens" default:"false" help:"accept only the OpenID provider's tokens; POST /token is refused (needs oidc.issuer)"`

	Token   TokenConfig    `key:"token"`
	OIDC    OIDCConfig     `key:"oidc"`
	Store   StoreConfig    `key:"store"`
	TLS     TLSConfig      `key:"tls"`
	HTTP    HTTPConfig     `key:"http"`
	Log     LogConfig      `key:"log"`
	Sign    SignConfig     `key:"sign"`
	ID      IdentityConfig `key:"identity"`
	Cert    CertConfig     `key:"cert"`
	CA      CAConfig       `key:"ca"`
	Seal    SealConfig     `key:"seal"`
	PKCS11  PKCS11Config   `key:"pkcs11"`
	TSA     TSAConfig      `key:"tsa"`
	Metrics MetricsConfig  `key:"metrics"`

	// ConfigFile is the TOML file the settings were read from, named by
	// -config or SELLO_CONFIG; empty when none. It is not a setting.
	ConfigFile string `key:"-"`
	// PrintConfig is set by -print-config: show the effective settings and
	// exit. It is not a setting.
	PrintConfig bool `key:"-"`

	// sources records where each setting's value came from, by key.
	sources map[string]string
}

// TokenConfig holds the settings of issued access tokens.
type TokenConfig struct {
	TTL    time.Duration `key:"ttl" default:"1h" help:"lifetime of access tokens (expires_in)"`
	Leeway time.Duration `key:"leeway" default:"30s" help:"clock-skew allowance when checking tokens"`
}

// OIDCConfig names an external OpenID provider whose access tokens are
// accepted as well as (or, with NoLocalTokens, instead of) the service's.
type OIDCConfig struct {
	Issuer        string `key:"issuer" help:"issuer URL of an OpenID provider whose access tokens are accepted too; empty means none"`
	Audience      string `key:"audience" default:"sello" help:"aud the OpenID provider puts in tokens for this service"`
	AccountClaim  string `key:"account-claim" default:"account" help:"claim of the provider's tokens that holds the account"`
	ProjectsClaim string `key:"projects-claim" default:"projects" help:"claim of the provider's tokens that holds the projects"`
}

// StoreConfig selects the store.
type StoreConfig struct {
	DSN string `key:"dsn" secret:"true" help:"PostgreSQL connection string for multi-node use; empty means SQLite in the data directory"`
}

// TLSConfig enables HTTPS; both files or neither must be given.
type TLSConfig struct {
	CertFile string `key:"cert-file" help:"PEM certificate chain for HTTPS; empty serves plain HTTP"`
	KeyFile  string `key:"key-file" help:"PEM private key for HTTPS"`
}

// HTTPConfig holds the HTTP server's timeouts, sized for large uploads.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `key:"read-header-timeout" default:"10s" help:"time allowed to read request headers"`
	ReadTimeout       time.Duration `key:"read-timeout" default:"10m" help:"time allowed to read a whole request, body included; 0 means none"`
	WriteTimeout      time.Duration `key:"write-timeout" default:"10m" help:"time allowed to write a response, from the end of the headers; 0 means none"`
	IdleTimeout       time.Duration `key:"idle-timeout" default:"2m" help:"how long an idle keep-alive connection stays open"`
	ShutdownTimeout   time.Duration `key:"shutdown-timeout" default:"30s" help:"how long a shutdown waits for requests in flight"`
}

// LogConfig selects the log format and level.
type LogConfig struct {
	Format string `key:"format" default:"json" help:"log format: json or text"`
	Level  string `key:"level" default:"info" help:"lowest level logged: debug, info, warn or error"`
}

// SignConfig holds the limits of POST /sign-documents.
type SignConfig struct {
	MaxDocumentBytes ByteSize      `key:"max-document-bytes" default:"50MB" help:"largest document accepted"`
	MaxRequestBytes  ByteSize      `key:"max-request-bytes" default:"200MB" help:"largest request body accepted"`
	MaxDocuments     int           `key:"max-documents" default:"20" help:"most documents in one request"`
	MaxFieldBytes    ByteSize      `key:"max-field-bytes" default:"64KB" help:"largest text field (referenceNumber, clientInfo, coordinates)"`
	MemoryThreshold  ByteSize      `key:"memory-threshold" default:"4MB" help:"largest document kept in memory; larger ones go to temporary files"`
	MemoryBudget     ByteSize      `key:"memory-budget" default:"256MB" help:"memory for documents of all requests together"`
	TempDir          string        `key:"temp-dir" help:"directory for temporary files; empty means the system's"`
	MaxConcurrent    int           `key:"max-concurrent" default:"0" help:"documents signed at the same time by the whole service; 0 means 2 x cores"`
	QueueTimeout     time.Duration `key:"queue-timeout" default:"2s" help:"how long a request waits for signing capacity before 503"`
	Hash             string        `key:"hash" default:"sha256" help:"digest of the signatures: sha256, sha384 or sha512"`
	RSAPSS           bool          `key:"rsa-pss" default:"false" help:"sign with RSASSA-PSS instead of PKCS#1 v1.5 when the key is RSA"`
	FontFile         string        `key:"font-file" help:"TrueType font for stamp text that Helvetica cannot show, such as DejaVuSans.ttf for Vietnamese names; empty means the built-in Go Regular"`
}

// IdentityConfig selects the identity-validation provider.
type IdentityConfig struct {
	Provider        string        `key:"provider" default:"embedded" help:"identity-validation provider: embedded or http"`
	URL             string        `key:"url" help:"base URL of the http provider"`
	Credential      string        `key:"credential" secret:"true" help:"bearer credential sent to the http provider"`
	Timeout         time.Duration `key:"timeout" default:"5s" help:"time allowed for each call to the http provider"`
	MaxRetries      int           `key:"max-retries" default:"2" help:"retries after a failed call to the http provider"`
	SingleUse       bool          `key:"single-use" default:"false" help:"a transaction signs in one successful request only"`
	AllowClientData bool          `key:"allow-client-data" default:"true" help:"accept clientInfo given as a JSON object with the signer's data"`
	// UnavailableIsFault answers 500 when the provider cannot answer,
	// instead of failing each document with the identity reason.
	UnavailableIsFault bool `key:"unavailable-is-fault" default:"false" help:"answer 500 when the identity provider cannot answer, instead of failing each document with \"Identity validation error.\""`
}

// CertConfig selects which certificate signs.
type CertConfig struct {
	Mode string `key:"mode" default:"ondemand" help:"signing certificate: ondemand (the CA issues one per request) or seal"`
}

// CAConfig configures the service CA of the ondemand mode.
type CAConfig struct {
	KeyFile      string        `key:"key-file" help:"CA key, PEM or PKCS#12; empty means the CA created in the data directory"`
	CertFile     string        `key:"cert-file" help:"CA certificate chain, PEM, for a PEM key-file or a PKCS#11 key"`
	KeyPassword  string        `key:"key-password" secret:"true" help:"password of a PKCS#12 key-file"`
	PKCS11URI    string        `key:"pkcs11-uri" secret:"true" help:"RFC 7512 URI of a CA key in an HSM, instead of key-file (secret: it may carry pin-value)"`
	Organization string        `key:"organization" default:"Sello" help:"O of the CA and of issued certificates"`
	Country      string        `key:"country" help:"C of the CA and of issued certificates, two letters"`
	Validity     time.Duration `key:"validity" default:"1h" help:"lifetime of issued certificates"`
	KeyType      string        `key:"key-type" default:"ecdsa-p256" help:"key made for each signer: ecdsa-p256 or rsa-2048"`
}

// SealConfig configures the organisation seal of the seal mode.
type SealConfig struct {
	KeyFile     string `key:"key-file" help:"seal key, PEM or PKCS#12"`
	CertFile    string `key:"cert-file" help:"seal certificate chain, PEM, for a PEM key-file or a PKCS#11 key"`
	KeyPassword string `key:"key-password" secret:"true" help:"password of a PKCS#12 key-file"`
	PKCS11URI   string `key:"pkcs11-uri" secret:"true" help:"RFC 7512 URI of the seal key in an HSM, instead of key-file (secret: it may carry pin-value)"`
}

// PKCS11Config holds what PKCS#11 URIs may leave out.
type PKCS11Config struct {
	PIN string `key:"pin" secret:"true" help:"user PIN for PKCS#11 URIs without pin-value or pin-source"`
}

// TSAConfig configures the time-stamping authority (PAdES B-T).
type TSAConfig struct {
	URL      string        `key:"url" help:"RFC 3161 time-stamping authority; empty signs without time-stamps (B-B)"`
	Username string        `key:"username" help:"HTTP Basic user for the TSA"`
	Password string        `key:"password" secret:"true" help:"HTTP Basic password for the TSA"`
	Timeout  time.Duration `key:"timeout" default:"30s" help:"time allowed for each time-stamp request"`
}

// MetricsConfig switches the Prometheus endpoint.
type MetricsConfig struct {
	Enabled bool `key:"enabled" default:"true" help:"serve Prometheus metrics at /metrics"`
}

// Source returns where the value of the setting with the given file key
// (such as "store.dsn") came from: "default", "file", "env SELLO_...",
// "flag -..."; "" for an unknown key.
func (c *Config) Source(key string) string {
	return c.sources[key]
}
