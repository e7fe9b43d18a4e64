package main

import (
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"sello/internal/auth"
	"sello/internal/auth/openid"
	"sello/internal/ca"
	"sello/internal/config"
	"sello/internal/httpapi"
	"sello/internal/identity"
	"sello/internal/identity/remote"
	"sello/internal/keys"
	"sello/internal/keys/filekey"
	"sello/internal/keys/pkcs11"
	"sello/internal/pades"
	"sello/internal/signing"
	"sello/internal/tsa"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, os.LookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		config.Usage(stderr)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sello serve: invalid configuration:\n%v\n", err)
		return 2
	}
	if cfg.PrintConfig {
		if err := cfg.Print(stdout); err != nil {
			fmt.Fprintf(stderr, "sello serve: %v\n", err)
			return 1
		}
		return 0
	}
	log := newLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, stdout, log, nil); err != nil {
		log.Error("serve", slog.String("err", err.Error()))
		return 1
	}
	return 0
}

// newLogger returns the service's logger: JSON (or text) on w at the
// configured level. config.Validate has checked both names.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs the service until ctx is done, then shuts down gracefully:
// new requests get 503 while those in flight finish. When ready is not nil
// it receives the listening address.
func serve(ctx context.Context, cfg *config.Config, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	if cfg.Store.DSN != "" {
		// Every node must open the same token keys and issue from the
		// same CA: neither may come from a node's own data directory.
		if cfg.MasterKey == "" {
			return errors.New("store.dsn: a shared store needs master-key (SELLO_MASTER_KEY), the same on every node")
		}
		if cfg.Cert.Mode != "seal" && cfg.CA.KeyFile == "" && cfg.CA.PKCS11URI == "" {
			return errors.New("store.dsn: a shared store needs the CA key of every node: set ca.key-file and ca.cert-file, or ca.pkcs11-uri")
		}
	}
	db, err := openStore(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	master, err := serveMasterKey(ctx, cfg, db)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	addr := ln.Addr().String()
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = scheme + "://" + addr
	}

	tokens, err := newTokenService(ctx, cfg, db, master, issuer, log)
	if err != nil {
		return err
	}
	svc, checks, closeKeys, err := newSigningService(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	defer closeKeys()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpapi.NewMetrics(reg)
	opts := httpapi.Options{
		Logger: log,
		Auth:   tokens,
		Issuer: issuer,
		SignDocuments: httpapi.NewSignHandler(httpapi.SignHandlerOptions{
			Signer:           svc,
			Logger:           log,
			Metrics:          metrics,
			TempDir:          cfg.Sign.TempDir,
			MaxDocumentBytes: int64(cfg.Sign.MaxDocumentBytes),
			MaxRequestBytes:  int64(cfg.Sign.MaxRequestBytes),
			MaxDocuments:     cfg.Sign.MaxDocuments,
			MaxFieldBytes:    int64(cfg.Sign.MaxFieldBytes),
			MemoryThreshold:  int64(cfg.Sign.MemoryThreshold),
			MemoryBudget:     int64(cfg.Sign.MemoryBudget),
		}),
		Metrics: metrics,
		Ready:   append([]httpapi.ReadyCheck{{Name: "store", Check: db.Ping}}, checks...),
	}
	if cfg.Metrics.Enabled {
		opts.MetricsHandler = httpapi.MetricsHandler(reg)
	}
	handler, err := httpapi.New(opts)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	fmt.Fprintf(stdout, "sello: listening on %s://%s\n", scheme, addr)
	fmt.Fprintf(stdout, "sello: data directory %s\n", cfg.DataDir)
	fmt.Fprintf(stdout, "sello: create a first client with:\n  sello clients create --data-dir %s --account ACME --project payroll\n", shellQuote(cfg.DataDir))
	log.Info("listening", slog.String("addr", addr), slog.String("issuer", issuer), slog.String("data_dir", cfg.DataDir),
		slog.String("cert_mode", cfg.Cert.Mode), slog.String("identity_provider", cfg.ID.Provider))
	if ready != nil {
		ready <- addr
	}

	errc := make(chan error, 1)
	go func() {
		if cfg.TLS.CertFile != "" {
			errc <- srv.ServeTLS(ln, cfg.TLS.CertFile, cfg.TLS.KeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight, refusing new ones")
	handler.Drain()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMasterKey returns the key sealing token-signing keys: the
// master-key setting when given, else the data directory's.
func serveMasterKey(ctx context.Context, cfg *config.Config, db store) ([]byte, error) {
	if cfg.MasterKey != "" {
		return decodeMasterKey("master-key", cfg.MasterKey)
	}
	return masterKey(ctx, db, cfg.DataDir)
}

// newTokenService builds the token service: our own tokens and, when
// configured, an external OpenID provider's.
func newTokenService(ctx context.Context, cfg *config.Config, db store, master []byte, issuer string, log *slog.Logger) (*auth.Service, error) {
	var external []auth.ExternalIssuer
	if cfg.OIDC.Issuer != "" {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		provider, err := openid.New(dctx, openid.Options{
			IssuerURL:     cfg.OIDC.Issuer,
			Audience:      cfg.OIDC.Audience,
			AccountClaim:  cfg.OIDC.AccountClaim,
			ProjectsClaim: cfg.OIDC.ProjectsClaim,
			HTTPClient:    &http.Client{Timeout: 10 * time.Second},
			Leeway:        authLeeway(cfg.Token.Leeway),
		})
		if err != nil {
			return nil, err
		}
		external = append(external, provider)
		log.Info("trusting an external OpenID provider", slog.String("issuer", cfg.OIDC.Issuer))
	}
	tokens, err := auth.New(auth.Options{
		Clients:   db,
		Keys:      db,
		MasterKey: master,
		Issuer:    issuer,
		Audience:  cfg.Audience,
		TTL:       cfg.Token.TTL,
		Leeway:    authLeeway(cfg.Token.Leeway),
		External:  external,
		// Our own keys still exist then: switching back needs no migration.
		NoLocalTokens: cfg.NoLocalTokens,
	})
	if err != nil {
		return nil, err
	}
	if err := tokens.EnsureKey(ctx); err != nil {
		return nil, err
	}
	return tokens, nil
}

// newSigningService wires the identity provider, the signing keys and the
// time-stamping authority into the signing use case. It returns the
// readiness checks of what it depends on and a function releasing the key
// stores.
func newSigningService(ctx context.Context, cfg *config.Config, db store, log *slog.Logger) (*signing.Service, []httpapi.ReadyCheck, func(), error) {
	var checks []httpapi.ReadyCheck
	closers := []func(){}
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}

	var provider identity.Provider = db
	var consumer identity.Consumer = db
	if cfg.ID.Provider == "http" {
		client, err := remote.New(remote.Options{
			BaseURL:    cfg.ID.URL,
			Credential: cfg.ID.Credential,
			Timeout:    cfg.ID.Timeout,
			MaxRetries: cfg.ID.MaxRetries,
		})
		if err != nil {
			return nil, nil, closeAll, err
		}
		provider, consumer = client, client
	}
	if !cfg.ID.SingleUse {
		consumer = nil
	}
	checker := identity.NewChecker(identity.CheckerOptions{
		Provider:        provider,
		Consumer:        consumer,
		AllowClientData: cfg.ID.AllowClientData,
	})

	var keySource signing.KeySource
	switch cfg.Cert.Mode {
	case "seal":
		p, closeKey, err := keyProvider(cfg.Seal.KeyFile, cfg.Seal.CertFile, cfg.Seal.KeyPassword, cfg.Seal.PKCS11URI, cfg.PKCS11.PIN)
		if err != nil {
			return nil, nil, closeAll, fmt.Errorf("seal key: %w", err)
		}
		closers = append(closers, closeKey)
		if _, err := p.Key(ctx); err != nil {
			return nil, nil, closeAll, fmt.Errorf("seal key: %w", err)
		}
		keySource = signing.SealKey{Provider: p}
		checks = append(checks, httpapi.ReadyCheck{Name: "seal key", Check: func(ctx context.Context) error {
			_, err := p.Key(ctx)
			return err
		}})
	default:
		authority, check, closeKey, err := serviceCA(ctx, cfg)
		if err != nil {
			return nil, nil, closeAll, fmt.Errorf("service CA: %w", err)
		}
		closers = append(closers, closeKey)
		if check != nil {
			checks = append(checks, httpapi.ReadyCheck{Name: "CA key", Check: check})
		}
		keySource = signing.CAKeys{CA: authority, Options: ca.IssueOptions{RSA: cfg.CA.KeyType == "rsa-2048"}}
	}

	var stamper pades.Timestamper
	if cfg.TSA.URL != "" {
		c, err := tsa.New(tsa.Options{
			URL:        cfg.TSA.URL,
			HTTPClient: &http.Client{Timeout: cfg.TSA.Timeout},
			Username:   cfg.TSA.Username,
			Password:   cfg.TSA.Password,
		})
		if err != nil {
			return nil, nil, closeAll, fmt.Errorf("tsa: %w", err)
		}
		stamper = c
		checks = append(checks, httpapi.ReadyCheck{Name: "TSA", Check: reachable(cfg.TSA.URL)})
	}

	hash := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}[cfg.Sign.Hash]
	builder, err := stampBuilder(cfg.Sign.FontFile)
	if err != nil {
		return nil, nil, closeAll, fmt.Errorf("sign.font-file: %w", err)
	}
	svc, err := signing.New(signing.Options{
		Identity: checker,
		Keys:     keySource,
		Audit:    db,
		Sign: func(ctx context.Context, src io.ReaderAt, size int64, opts pades.Options) (signing.SignedDocument, error) {
			opts.Appearance = builder
			opts.Timestamper = stamper
			return signing.PAdES(ctx, src, size, opts)
		},
		Hash:               hash,
		PSS:                cfg.Sign.RSAPSS,
		MaxSigning:         cfg.Sign.MaxConcurrent,
		QueueTimeout:       cfg.Sign.QueueTimeout,
		UnavailableIsFault: cfg.ID.UnavailableIsFault,
	})
	if err != nil {
		return nil, nil, closeAll, err
	}
	return svc, checks, closeAll, nil
}

// serviceCA returns the CA of the on-demand mode: an external key (file or
// PKCS#11) when configured, else the CA kept in the data directory (created
// on first start). The check, when not nil, tells whether its key store is
// reachable.
func serviceCA(ctx context.Context, cfg *config.Config) (*ca.CA, func(context.Context) error, func(), error) {
	opts := ca.Options{Organization: cfg.CA.Organization, Country: cfg.CA.Country, Validity: cfg.CA.Validity}
	if cfg.CA.KeyFile == "" && cfg.CA.PKCS11URI == "" {
		authority, err := ca.LoadOrCreate(caDir(cfg.DataDir), opts)
		return authority, nil, func() {}, err
	}
	p, closeKey, err := keyProvider(cfg.CA.KeyFile, cfg.CA.CertFile, cfg.CA.KeyPassword, cfg.CA.PKCS11URI, cfg.PKCS11.PIN)
	if err != nil {
		return nil, nil, func() {}, err
	}
	key, err := p.Key(ctx)
	if err != nil {
		closeKey()
		return nil, nil, func() {}, err
	}
	check := func(ctx context.Context) error {
		_, err := p.Key(ctx)
		return err
	}
	return ca.New(key.Signer, key.Certificate(), opts), check, closeKey, nil
}

// keyProvider opens a key store: a PKCS#11 token named by an RFC 7512 URI,
// or a PEM or PKCS#12 file.
func keyProvider(keyFile, certFile, password, uri, pin string) (keys.Provider, func(), error) {
	if uri != "" {
		store, err := pkcs11.Open(pkcs11.Options{URI: uri, PIN: pin, CertificateFile: certFile})
		if err != nil {
			return nil, func() {}, err
		}
		return store, func() { store.Close() }, nil
	}
	opts := filekey.Options{KeyFile: keyFile, CertFile: certFile, Password: password}
	if strings.HasSuffix(strings.ToLower(keyFile), ".p12") || strings.HasSuffix(strings.ToLower(keyFile), ".pfx") {
		opts = filekey.Options{PKCS12File: keyFile, Password: password}
	}
	p, err := filekey.NewProvider(opts)
	if err != nil {
		return nil, func() {}, err
	}
	return p, func() {}, nil
}

// reachable returns a readiness check that opens a TCP connection to the
// host of rawURL.
func reachable(rawURL string) func(context.Context) error {
	return func(ctx context.Context) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return err
		}
		host := u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '-' || r == '_') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// authLeeway converts the leeway setting to auth.Options.Leeway, where zero
// means the default and a negative value means none.
func authLeeway(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
