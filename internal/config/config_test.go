package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// env returns a lookup function over a fixed set of variables.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// mustWrite writes content to name in a new temporary directory and
// returns its path.
func mustWrite(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// problemKeys returns the keys of the problems in err, or fails the test
// when err is not an *Error.
func problemKeys(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	keys := make([]string, len(ce.Problems))
	for i, p := range ce.Problems {
		keys[i] = p.Key
	}
	slices.Sort(keys)
	return keys
}

func TestSettings(t *testing.T) {
	t.Parallel()
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if s.Help == "" {
			t.Errorf("setting %s has no help text", s.Key)
		}
		if strings.ContainsAny(s.Key, "_ ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("key %q: want lowercase words joined by '-' and '.'", s.Key)
		}
		for _, name := range []string{s.Flag(), s.Flag() + "-file"} {
			if flags[name] {
				t.Errorf("flag -%s is declared twice", name)
			}
		}
		flags[s.Flag()] = true
		if s.Secret {
			flags[s.Flag()+"-file"] = true
		}
		if envs[s.Env()] {
			t.Errorf("env %s is declared twice", s.Env())
		}
		envs[s.Env()] = true
	}
	if flags["config"] || flags["print-config"] {
		t.Error("a setting takes the name of -config or -print-config")
	}
	// Defaults panics on a default that does not parse.
	if err := Defaults().Validate(); err != nil {
		t.Errorf("Defaults().Validate() = %v, want nil", err)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	byKey := map[string]Setting{}
	for _, s := range Settings() {
		byKey[s.Key] = s
	}
	tests := []struct {
		key, flag, env string
		secret         bool
	}{
		{"addr", "addr", "SELLO_ADDR", false},
		{"data-dir", "data-dir", "SELLO_DATA_DIR", false},
		{"token.ttl", "token-ttl", "SELLO_TOKEN_TTL", false},
		{"token.leeway", "token-leeway", "SELLO_TOKEN_LEEWAY", false},
		{"store.dsn", "store-dsn", "SELLO_STORE_DSN", true},
		{"master-key", "master-key", "SELLO_MASTER_KEY", true},
		{"sign.max-document-bytes", "sign-max-document-bytes", "SELLO_SIGN_MAX_DOCUMENT_BYTES", false},
		{"identity.credential", "identity-credential", "SELLO_IDENTITY_CREDENTIAL", true},
		{"tsa.password", "tsa-password", "SELLO_TSA_PASSWORD", true},
		{"oidc.issuer", "oidc-issuer", "SELLO_OIDC_ISSUER", false},
		{"oidc.account-claim", "oidc-account-claim", "SELLO_OIDC_ACCOUNT_CLAIM", false},
		{"no-local-tokens", "no-local-tokens", "SELLO_NO_LOCAL_TOKENS", false},
		{"issuer", "issuer", "SELLO_ISSUER", false},
		{"audience", "audience", "SELLO_AUDIENCE", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			s, ok := byKey[tt.key]
			if !ok {
				t.Fatalf("no setting %q", tt.key)
			}
			got := []any{s.Flag(), s.Env(), s.Secret}
			if diff := cmp.Diff([]any{tt.flag, tt.env, tt.secret}, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Defaults()
	got := map[string]any{
		"addr":               c.Addr,
		"data-dir":           c.DataDir,
		"token.ttl":          c.Token.TTL,
		"token.leeway":       c.Token.Leeway,
		"max-document-bytes": c.Sign.MaxDocumentBytes,
		"max-request-bytes":  c.Sign.MaxRequestBytes,
		"max-documents":      c.Sign.MaxDocuments,
		"memory-threshold":   c.Sign.MemoryThreshold,
		"log.format":         c.Log.Format,
		"identity.provider":  c.ID.Provider,
		"cert.mode":          c.Cert.Mode,
		"metrics.enabled":    c.Metrics.Enabled,
	}
	want := map[string]any{
		"addr":               "127.0.0.1:8080",
		"data-dir":           "./sello-data",
		"token.ttl":          time.Hour,
		"token.leeway":       30 * time.Second,
		"max-document-bytes": ByteSize(50 << 20),
		"max-request-bytes":  ByteSize(200 << 20),
		"max-documents":      20,
		"memory-threshold":   ByteSize(4 << 20),
		"log.format":         "json",
		"identity.provider":  "embedded",
		"cert.mode":          "ondemand",
		"metrics.enabled":    true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if src := c.Source("addr"); src != "default" {
		t.Errorf("Source(addr) = %q, want default", src)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := mustWrite(t, "sello.toml", `
addr = "127.0.0.1:1001"
data-dir = "/from/file"
[token]
ttl = "10m"
[sign]
max-documents = 7
max-document-bytes = 1048576
[log]
format = "text"
`)
	tests := []struct {
		name    string
		args    []string
		env     []string
		want    map[string]string // key → value as text
		sources map[string]string // key → source
	}{
		{
			name:    "defaults only",
			want:    map[string]string{"addr": "127.0.0.1:8080", "token.ttl": "1h0m0s", "sign.max-documents": "20"},
			sources: map[string]string{"addr": "default", "token.ttl": "default"},
		},
		{
			name: "file over defaults",
			args: []string{"-config", file},
			want: map[string]string{"addr": "127.0.0.1:1001", "data-dir": "/from/file", "token.ttl": "10m0s",
				"sign.max-documents": "7", "sign.max-document-bytes": "1MB", "log.format": "text", "log.level": "info"},
			sources: map[string]string{"addr": "file", "log.level": "default"},
		},
		{
			name: "file named by SELLO_CONFIG",
			env:  []string{"SELLO_CONFIG", file},
			want: map[string]string{"addr": "127.0.0.1:1001"},
		},
		{
			name:    "env over file",
			args:    []string{"--config", file},
			env:     []string{"SELLO_ADDR", "127.0.0.1:1002", "SELLO_TOKEN_TTL", "20m", "SELLO_LOG_FORMAT", ""},
			want:    map[string]string{"addr": "127.0.0.1:1002", "token.ttl": "20m0s", "data-dir": "/from/file", "log.format": "text"},
			sources: map[string]string{"addr": "env SELLO_ADDR", "data-dir": "file", "log.format": "file"},
		},
		{
			name: "flags over env and file",
			args: []string{"-config", file, "--addr=127.0.0.1:1003", "-token-ttl", "30m", "-metrics-enabled=false", "-identity-single-use"},
			env:  []string{"SELLO_ADDR", "127.0.0.1:1002", "SELLO_TOKEN_TTL", "20m", "SELLO_SIGN_MAX_DOCUMENTS", "9"},
			want: map[string]string{"addr": "127.0.0.1:1003", "token.ttl": "30m0s", "sign.max-documents": "9",
				"metrics.enabled": "false", "identity.single-use": "true"},
			sources: map[string]string{"addr": "flag -addr", "sign.max-documents": "env SELLO_SIGN_MAX_DOCUMENTS",
				"identity.single-use": "flag -identity-single-use"},
		},
		{
			name: "the last repeated flag wins",
			args: []string{"-addr", ":1", "-addr", ":2"},
			want: map[string]string{"addr": ":2"},
		},
	}
	byKey := map[string]Setting{}
	for _, s := range Settings() {
		byKey[s.Key] = s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, env(tt.env...))
			if err != nil {
				t.Fatalf("Load(%q) = %v", tt.args, err)
			}
			got, gotSources := map[string]string{}, map[string]string{}
			for k := range tt.want {
				got[k] = byKey[k].text(c)
			}
			for k := range tt.sources {
				gotSources[k] = c.Source(k)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sources, gotSources, cmpEmptyMap); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpEmptyMap treats a nil and an empty map as equal.
var cmpEmptyMap = cmp.FilterValues(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 },
	cmp.Comparer(func(a, b map[string]string) bool { return true }))

func TestLoadProblems(t *testing.T) {
	t.Parallel()
	badFile := mustWrite(t, "bad.toml", "addr = 8080\nnope = 1\n[sign]\nmax-documents = \"x\"\nmax-request-bytes = -1\n[token]\nttl = 60\n")
	brokenFile := mustWrite(t, "broken.toml", "addr = \n")
	tests := []struct {
		name string
		args []string
		env  []string
		want []string // keys of the problems, sorted; "" for no key
	}{
		{"malformed flag values", []string{"-token-ttl", "soon", "-sign-max-documents", "many", "-metrics-enabled=maybe"}, nil,
			[]string{"metrics.enabled", "sign.max-documents", "token.ttl"}},
		{"malformed env values", nil, []string{"SELLO_TOKEN_LEEWAY", "1 minute", "SELLO_SIGN_MEMORY_THRESHOLD", "4 potatoes"},
			[]string{"sign.memory-threshold", "token.leeway"}},
		{"unknown flag", []string{"-no-such-setting"}, nil, []string{""}},
		{"stray argument", []string{"extra"}, nil, []string{""}},
		{"missing config file", []string{"-config", filepath.Join(t.TempDir(), "absent.toml")}, nil, []string{""}},
		{"bad file values and unknown keys", []string{"-config", badFile}, nil,
			[]string{"addr", "nope", "sign.max-documents", "sign.max-request-bytes", "token.ttl"}},
		{"broken file", []string{"-config", brokenFile}, nil, []string{""}},
		{"value and file for one secret", nil, []string{"SELLO_STORE_DSN", "x", "SELLO_STORE_DSN_FILE", "/x"},
			[]string{"store.dsn"}},
		{"parse and validation problems together", []string{"-log-format", "xml", "-sign-max-documents", "x"},
			[]string{"SELLO_IDENTITY_PROVIDER", "http"},
			[]string{"identity.url", "log.format", "sign.max-documents"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, env(tt.env...))
			if err == nil {
				t.Fatalf("Load(%q) = %+v, nil; want problems with %q", tt.args, c, tt.want)
			}
			if diff := cmp.Diff(tt.want, problemKeys(t, err)); diff != "" {
				t.Errorf("problem keys (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestProblemText(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"-token-ttl", "10ms", "-sign-max-documents", "many"}, env("SELLO_NO_LOCAL_TOKENS", "true"))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load error = %v, want *Error", err)
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"no-local-tokens (env SELLO_NO_LOCAL_TOKENS): needs oidc.issuer: without it no token would be accepted",
		`sign.max-documents (flag -sign-max-documents): not a whole number: "many"`,
		"token.ttl (flag -token-ttl): must be at least 1s",
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(err.Error(), "config: 3 problems:\n  ") {
		t.Errorf("Error() = %q, want a count and one problem per line", err)
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			if _, err := Load([]string{arg}, env()); !errors.Is(err, flag.ErrHelp) {
				t.Errorf("Load(%q) error = %v, want flag.ErrHelp", arg, err)
			}
		})
	}
}

func TestLoadPrintConfig(t *testing.T) {
	t.Parallel()
	c, err := Load([]string{"--print-config"}, env())
	if err != nil {
		t.Fatal(err)
	}
	if !c.PrintConfig {
		t.Error("PrintConfig = false after --print-config")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string
	}{
		{"defaults", func(c *Config) {}, nil},
		{"bad addr", func(c *Config) { c.Addr = "localhost" }, []string{"addr"}},
		{"bad port", func(c *Config) { c.Addr = ":99999" }, []string{"addr"}},
		{"relative issuer", func(c *Config) { c.Issuer = "example/sello" }, []string{"issuer"}},
		{"short master key", func(c *Config) { c.MasterKey = "c2hvcnQ=" }, []string{"master-key"}},
		{"master key of 32 bytes", func(c *Config) { c.MasterKey = strings.Repeat("A", 43) + "=" }, nil},
		{"token lifetimes", func(c *Config) { c.Token.TTL = time.Millisecond; c.Token.Leeway = -time.Second },
			[]string{"token.leeway", "token.ttl"}},
		{"tls cert without key", func(c *Config) { c.TLS.CertFile = "cert.pem" }, []string{"tls"}},
		{"tls both", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = "cert.pem", "key.pem" }, nil},
		{"zero read-header timeout", func(c *Config) { c.HTTP.ReadHeaderTimeout = 0 }, []string{"http.read-header-timeout"}},
		{"log", func(c *Config) { c.Log.Format, c.Log.Level = "xml", "verbose" }, []string{"log.format", "log.level"}},
		{"limits", func(c *Config) {
			c.Sign.MaxDocuments = 0
			c.Sign.MaxDocumentBytes = 300 * MB
			c.Sign.MemoryThreshold = 512 * MB
		}, []string{"sign.max-document-bytes", "sign.max-documents", "sign.memory-threshold"}},
		{"negative concurrency", func(c *Config) { c.Sign.MaxConcurrent = -1 }, []string{"sign.max-concurrent"}},
		{"http provider without url", func(c *Config) { c.ID.Provider = "http" }, []string{"identity.url"}},
		{"http provider", func(c *Config) { c.ID.Provider, c.ID.URL = "http", "https://idv.test/api" }, nil},
		{"unknown provider", func(c *Config) { c.ID.Provider = "ldap" }, []string{"identity.provider"}},
		{"seal without key", func(c *Config) { c.Cert.Mode = "seal" }, []string{"seal"}},
		{"seal in an HSM", func(c *Config) { c.Cert.Mode, c.Seal.PKCS11URI = "seal", "pkcs11:token=t;object=seal" }, nil},
		{"two CA key sources", func(c *Config) { c.CA.KeyFile, c.CA.PKCS11URI = "ca.pem", "pkcs11:object=ca" }, []string{"ca"}},
		{"CA cert without key", func(c *Config) { c.CA.CertFile = "ca.pem" }, []string{"ca.cert-file"}},
		{"bad PKCS#11 URI", func(c *Config) { c.CA.PKCS11URI = "token=x" }, []string{"ca.pkcs11-uri"}},
		{"bad country", func(c *Config) { c.CA.Country = "Colombia" }, []string{"ca.country"}},
		{"bad TSA", func(c *Config) { c.TSA.URL = "tsa.test"; c.TSA.Password = "p" }, []string{"tsa.password", "tsa.url"}},
		{"bad mode", func(c *Config) { c.Cert.Mode = "both" }, []string{"cert.mode"}},
		{"algorithms", func(c *Config) { c.Sign.Hash, c.CA.KeyType = "md5", "dsa" }, []string{"ca.key-type", "sign.hash"}},
		{"RSA with PSS and SHA-512", func(c *Config) { c.Sign.Hash, c.Sign.RSAPSS, c.CA.KeyType = "sha512", true, "rsa-2048" }, nil},
		{"no local tokens without a provider", func(c *Config) { c.NoLocalTokens = true }, []string{"no-local-tokens"}},
		{"OpenID provider only", func(c *Config) { c.NoLocalTokens, c.OIDC.Issuer = true, "https://idp.test/realms/sello" }, nil},
		{"OpenID provider without claims", func(c *Config) {
			c.OIDC.Issuer, c.OIDC.Audience, c.OIDC.AccountClaim = "idp.test", "", ""
		}, []string{"oidc.account-claim", "oidc.audience", "oidc.issuer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Defaults()
			tt.modify(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, problemKeys(t, err)); diff != "" {
				t.Errorf("problem keys (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestSecretFiles(t *testing.T) {
	t.Parallel()
	dsnFile := mustWrite(t, "dsn", "postgres://sello:s3cret@127.0.0.1/sello\n")
	credFile := mustWrite(t, "cred", "idv-token\r\n")
	conf := mustWrite(t, "sello.toml", "[identity]\ncredential-file = \""+credFile+"\"\n")
	tests := []struct {
		name string
		args []string
		env  []string
		key  string
		want string
		src  string
	}{
		{"env _FILE", nil, []string{"SELLO_STORE_DSN_FILE", dsnFile}, "store.dsn",
			"postgres://sello:s3cret@127.0.0.1/sello", "env SELLO_STORE_DSN_FILE"},
		{"flag -file", []string{"-store-dsn-file", dsnFile}, nil, "store.dsn",
			"postgres://sello:s3cret@127.0.0.1/sello", "flag -store-dsn-file"},
		{"flag value over env file", []string{"-store-dsn", "postgres://other"}, []string{"SELLO_STORE_DSN_FILE", dsnFile},
			"store.dsn", "postgres://other", "flag -store-dsn"},
		{"file key -file", []string{"-config", conf}, nil, "identity.credential", "idv-token", "file " + conf},
	}
	byKey := map[string]Setting{}
	for _, s := range Settings() {
		byKey[s.Key] = s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.args, env(tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			if got := byKey[tt.key].text(c); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
			}
			if got := c.Source(tt.key); got != tt.src {
				t.Errorf("Source(%s) = %q, want %q", tt.key, got, tt.src)
			}
		})
	}
}

func TestSecretNeverInProblems(t *testing.T) {
	t.Parallel()
	// A master key that is not valid base64 must not be echoed back.
	const secret = "not-base64-but-secret!"
	keyFile := mustWrite(t, "master", secret)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"flag", []string{"-master-key", secret}, nil},
		{"env", nil, []string{"SELLO_MASTER_KEY", secret}},
		{"file", []string{"-master-key-file", keyFile}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.args, env(tc.env...))
			if diff := cmp.Diff([]string{"master-key"}, problemKeys(t, err)); diff != "" {
				t.Fatalf("problem keys (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("A", 43) + "="
	c, err := Load([]string{
		"-store-dsn", "postgres://sello:s3cret@127.0.0.1/sello",
		"-master-key", key,
		"-tsa-url", "http://127.0.0.1:1/tsa", "-tsa-username", "u", "-tsa-password", "tsa-s3cret",
		"-identity-credential", "idv-s3cret",
		"-addr", "127.0.0.1:9999",
		"-sign-temp-dir", `C:\tmp "quoted"`,
	}, env())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{"s3cret", key} {
		if strings.Contains(out, secret) {
			t.Errorf("Print shows secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		`addr = "127.0.0.1:9999" # flag -addr`,
		`dsn = "[redacted]" # flag -store-dsn`,
		`ttl = "1h" # default`,
		`max-document-bytes = "50MB" # default`,
		"[sign]",
		`key-password = "" # default`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Print output lacks %q:\n%s", want, out)
		}
	}

	// The output is a configuration file that gives the same settings,
	// secrets apart.
	conf := mustWrite(t, "printed.toml", out)
	again, err := Load([]string{"-config", conf, "-master-key", key}, env())
	if err != nil {
		t.Fatalf("Load(printed config) = %v\n%s", err, out)
	}
	for _, s := range Settings() {
		if s.Secret {
			continue
		}
		if a, b := s.text(c), s.text(again); a != b {
			t.Errorf("%s = %q after a round trip through Print, want %q", s.Key, b, a)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Usage(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range Settings() {
		for _, want := range []string{"-" + s.Flag(), s.Env(), "file key " + s.Key} {
			if !strings.Contains(out, want) {
				t.Errorf("Usage lacks %q for %s", want, s.Key)
			}
		}
	}
	for _, want := range []string{`(default "127.0.0.1:8080")`, "(default 50MB)", "(default 1h)", "SELLO_STORE_DSN_FILE", "-config", "-print-config"} {
		if !strings.Contains(out, want) {
			t.Errorf("Usage lacks %q", want)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"0", 0, true},
		{"4096", 4096, true},
		{"64KB", 64 << 10, true},
		{"50MB", 50 << 20, true},
		{"50 MiB", 50 << 20, true},
		{"2g", 2 << 30, true},
		{"1TB", 1 << 40, true},
		{"10B", 10, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5MB", 0, false},
		{"12XB", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999TB", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseByteSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			if err == nil {
				back, err := ParseByteSize(got.String())
				if err != nil || back != got {
					t.Errorf("ParseByteSize(%q) = %d, %v; want %d", got.String(), back, err, got)
				}
			}
		})
	}
}
