package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sello/internal/auth"
	"sello/internal/identity"
	"sello/internal/signing"
	"sello/internal/store/postgres"
	"sello/internal/store/sqlite"
)

// defaultDataDir is where the embedded store lives unless --data-dir or
// SELLO_DATA_DIR says otherwise.
const defaultDataDir = "./sello-data"

// masterKeyFile is the name, in the data directory, of the file that holds
// the key sealing the token-signing keys, unless SELLO_MASTER_KEY is set.
const masterKeyFile = "master.key"

// envOr returns the environment variable name, or def when it is unset or
// empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// dataDirFlag defines --data-dir on fs, defaulting to SELLO_DATA_DIR, else
// ./sello-data.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", envOr("SELLO_DATA_DIR", defaultDataDir),
		"data directory holding the database and keys (env SELLO_DATA_DIR)")
}

// store is what the commands need of a store: the stores of auth, identity
// and signing, the audit log's reader, a readiness check and Close. The
// SQLite and PostgreSQL stores satisfy it.
type store interface {
	auth.ClientRegistry
	auth.KeyStore
	identity.Store
	signing.AuditLog
	ListAudit(ctx context.Context, q signing.AuditQuery) ([]signing.AuditEntry, error)
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ store = (*sqlite.DB)(nil)
	_ store = (*postgres.DB)(nil)
)

// openStore opens the store, applying pending migrations: PostgreSQL when
// a DSN is given (the dsn argument, else SELLO_STORE_DSN or the file named
// by SELLO_STORE_DSN_FILE), else SQLite in the data directory dir, created
// if needed with mode 0700.
func openStore(ctx context.Context, dsn, dir string) (store, error) {
	if dsn == "" {
		var err error
		if dsn, err = storeDSNFromEnv(); err != nil {
			return nil, err
		}
	}
	if dsn != "" {
		return postgres.Open(ctx, dsn)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(dir, "sello.db"))
}

// masterKey returns the master key for the store in dir. A new one is
// created only while the store holds no token-signing key: otherwise those
// keys were sealed under an existing master key, and a fresh one could not
// open them.
func masterKey(ctx context.Context, db store, dir string) ([]byte, error) {
	keys, err := db.TokenKeys(ctx)
	if err != nil {
		return nil, err
	}
	return loadMasterKey(dir, len(keys) == 0)
}

// loadMasterKey returns the master key: SELLO_MASTER_KEY (standard base64
// of 32 bytes) when set, else the file master.key in the data directory,
// created with a fresh random key (mode 0600) when it does not exist and
// create is true.
func loadMasterKey(dir string, create bool) ([]byte, error) {
	if v := os.Getenv("SELLO_MASTER_KEY"); v != "" {
		return decodeMasterKey("SELLO_MASTER_KEY", v)
	}
	path := filepath.Join(dir, masterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeMasterKey(path, string(b))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	if !create {
		return nil, fmt.Errorf("no master key: the database holds token keys sealed with one; set SELLO_MASTER_KEY or restore %s", path)
	}
	key := make([]byte, auth.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// O_EXCL: if another process created the file meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadMasterKey(dir, false)
	}
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	return key, nil
}

func decodeMasterKey(source, v string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(key) != auth.MasterKeySize {
		return nil, fmt.Errorf("master key from %s: want the base64 encoding of %d bytes", source, auth.MasterKeySize)
	}
	return key, nil
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("disable ID --json"), and returns the positional
// arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// subcommand splits the arguments of an administrative command ("sello
// clients create ...") into the subcommand and its arguments. Without a
// subcommand, or when asked for help, it prints usage and reports the exit
// code with ok false.
func subcommand(args []string, usage string, stderr io.Writer) (sub string, rest []string, code int, ok bool) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return "", nil, 2, false
		}
		return "", nil, 0, false
	}
	return args[0], args[1:], 0, true
}

// parseOperands parses a subcommand's flags, which may stand before or
// after its operands, and checks that exactly n operands came; what names
// one operand in the message ("client id"). When the command must end
// (help, a bad flag, a wrong count) it reports the exit code with ok false.
func parseOperands(fs *flag.FlagSet, args []string, n int, what string, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		return nil, 2, false
	}
	if len(pos) != n {
		if n == 1 {
			fmt.Fprintf(stderr, "%s: want exactly one %s\n", fs.Name(), what)
		} else {
			fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), pos[0])
		}
		return nil, 2, false
	}
	return pos, 0, true
}

// storeDSNFromEnv returns the PostgreSQL DSN the administrative commands
// share with serve: SELLO_STORE_DSN, or the content of the file named by
// SELLO_STORE_DSN_FILE; "" for the embedded SQLite store.
func storeDSNFromEnv() (string, error) {
	if v := os.Getenv("SELLO_STORE_DSN"); v != "" {
		return v, nil
	}
	if f := os.Getenv("SELLO_STORE_DSN_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("SELLO_STORE_DSN_FILE: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}
