package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sello/internal/auth"
	"sello/internal/auth/openid"
	"sello/internal/httpapi"
)

// shutdownGrace is how long serve waits for requests in flight after
// SIGINT or SIGTERM.
const shutdownGrace = 30 * time.Second

// serveConfig is the configuration of serve, from flags and SELLO_* env.
type serveConfig struct {
	addr     string
	dataDir  string
	issuer   string
	audience string
	tokenTTL time.Duration
	leeway   time.Duration

	// An external OpenID provider whose access tokens are accepted too.
	oidcIssuer, oidcAudience, oidcAccountClaim, oidcProjectsClaim string
	noLocalTokens                                                 bool
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sello serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.addr, "addr", envOr("SELLO_ADDR", "127.0.0.1:8080"), "address to listen on (env SELLO_ADDR)")
	dataDir := dataDirFlag(fs)
	fs.StringVar(&cfg.issuer, "issuer", os.Getenv("SELLO_ISSUER"),
		"base URL clients reach the service at, the tokens' iss (env SELLO_ISSUER; default http://ADDR)")
	fs.StringVar(&cfg.audience, "audience", envOr("SELLO_AUDIENCE", auth.DefaultAudience), "aud of issued tokens (env SELLO_AUDIENCE)")
	ttl, ttlErr := durationFlag(fs, "token-ttl", "SELLO_TOKEN_TTL", auth.DefaultTTL, "lifetime of access tokens")
	leeway, leewayErr := durationFlag(fs, "token-leeway", "SELLO_TOKEN_LEEWAY", auth.DefaultLeeway, "clock-skew allowance when checking tokens")
	fs.StringVar(&cfg.oidcIssuer, "oidc-issuer", os.Getenv("SELLO_OIDC_ISSUER"),
		"issuer URL of an OpenID provider whose access tokens are accepted too (env SELLO_OIDC_ISSUER)")
	fs.StringVar(&cfg.oidcAudience, "oidc-audience", envOr("SELLO_OIDC_AUDIENCE", auth.DefaultAudience),
		"aud the OpenID provider puts in tokens for this service (env SELLO_OIDC_AUDIENCE)")
	fs.StringVar(&cfg.oidcAccountClaim, "oidc-account-claim", envOr("SELLO_OIDC_ACCOUNT_CLAIM", openid.DefaultAccountClaim),
		"claim of the provider's tokens that holds the account (env SELLO_OIDC_ACCOUNT_CLAIM)")
	fs.StringVar(&cfg.oidcProjectsClaim, "oidc-projects-claim", envOr("SELLO_OIDC_PROJECTS_CLAIM", openid.DefaultProjectsClaim),
		"claim of the provider's tokens that holds the projects (env SELLO_OIDC_PROJECTS_CLAIM)")
	fs.BoolVar(&cfg.noLocalTokens, "no-local-tokens", os.Getenv("SELLO_NO_LOCAL_TOKENS") == "true",
		"accept only the OpenID provider's tokens; POST /token is refused (env SELLO_NO_LOCAL_TOKENS=true)")
	if _, err := parseArgs(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.dataDir, cfg.tokenTTL, cfg.leeway = *dataDir, *ttl, *leeway
	var bad bool
	for _, err := range []error{ttlErr(), leewayErr()} {
		if err != nil {
			fmt.Fprintf(stderr, "sello serve: %v\n", err)
			bad = true
		}
	}
	if cfg.tokenTTL < time.Second {
		fmt.Fprintf(stderr, "sello serve: --token-ttl %s: must be at least 1s\n", cfg.tokenTTL)
		bad = true
	}
	if cfg.leeway < 0 {
		fmt.Fprintf(stderr, "sello serve: --token-leeway %s: must not be negative\n", cfg.leeway)
		bad = true
	}
	if cfg.noLocalTokens && cfg.oidcIssuer == "" {
		fmt.Fprintln(stderr, "sello serve: --no-local-tokens needs --oidc-issuer")
		bad = true
	}
	if bad {
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if err := serve(ctx, cfg, stdout, log, nil); err != nil {
		log.Error("serve", slog.String("err", err.Error()))
		return 1
	}
	return 0
}

// serve runs the service until ctx is done, then shuts down gracefully.
// When ready is not nil it receives the listening address.
func serve(ctx context.Context, cfg serveConfig, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	db, err := openStore(ctx, cfg.dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	master, err := masterKey(ctx, db, cfg.dataDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	addr := ln.Addr().String()
	issuer := cfg.issuer
	if issuer == "" {
		issuer = "http://" + addr
	}

	var external []auth.ExternalIssuer
	if cfg.oidcIssuer != "" {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		provider, err := openid.New(dctx, openid.Options{
			IssuerURL:     cfg.oidcIssuer,
			Audience:      cfg.oidcAudience,
			AccountClaim:  cfg.oidcAccountClaim,
			ProjectsClaim: cfg.oidcProjectsClaim,
			HTTPClient:    &http.Client{Timeout: 10 * time.Second},
			Leeway:        authLeeway(cfg.leeway),
		})
		if err != nil {
			return err
		}
		external = append(external, provider)
		log.Info("trusting an external OpenID provider", slog.String("issuer", cfg.oidcIssuer))
	}
	tokens, err := auth.New(auth.Options{
		Clients:   db,
		Keys:      db,
		MasterKey: master,
		Issuer:    issuer,
		Audience:  cfg.audience,
		TTL:       cfg.tokenTTL,
		Leeway:    authLeeway(cfg.leeway),
		External:  external,
		// Our own keys still exist then: switching back needs no migration.
		NoLocalTokens: cfg.noLocalTokens,
	})
	if err != nil {
		return err
	}
	if err := tokens.EnsureKey(ctx); err != nil {
		return err
	}
	handler, err := httpapi.New(httpapi.Options{
		Logger: log,
		Auth:   tokens,
		Issuer: issuer,
		// TODO(#3): mount the signing endpoint once its handler lands.
		SignDocuments: nil,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	fmt.Fprintf(stdout, "sello: listening on http://%s\n", addr)
	fmt.Fprintf(stdout, "sello: data directory %s\n", cfg.dataDir)
	fmt.Fprintf(stdout, "sello: create a first client with:\n  sello clients create --data-dir %s --account ACME --project payroll\n", shellQuote(cfg.dataDir))
	log.Info("listening", slog.String("addr", addr), slog.String("issuer", issuer), slog.String("data_dir", cfg.dataDir))
	if ready != nil {
		ready <- addr
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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

// authLeeway converts a leeway flag to auth.Options.Leeway, where zero
// means the default and a negative value means none.
func authLeeway(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
