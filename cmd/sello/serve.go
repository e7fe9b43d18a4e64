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
	master, err := loadMasterKey(cfg.dataDir)
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

	tokens, err := auth.New(auth.Options{
		Clients:   db,
		Keys:      db,
		MasterKey: master,
		Issuer:    issuer,
		Audience:  cfg.audience,
		TTL:       cfg.tokenTTL,
		Leeway:    authLeeway(cfg.leeway),
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
