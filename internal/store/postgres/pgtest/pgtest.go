// Package pgtest gives tests a PostgreSQL server: a throwaway cluster that
// it creates with initdb and starts with pg_ctl in a temporary directory, on
// a free port of 127.0.0.1, or the server that SELLO_TEST_POSTGRES_DSN names.
// Each test then gets a fresh database of its own from [Server.NewDatabase].
//
// A package's TestMain calls [Start] once and [Server.Stop] at the end:
//
//	func TestMain(m *testing.M) {
//		srv, err := pgtest.Start(context.Background())
//		...
//		code := m.Run()
//		srv.Stop()
//		os.Exit(code)
//	}
//
// initdb and pg_ctl refuse to run as root; when the tests run as root,
// pgtest runs them as the postgres user through runuser.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvDSN names the environment variable that points the tests at an
// existing server instead of a throwaway cluster. Its user must be allowed
// to create and drop databases.
const EnvDSN = "SELLO_TEST_POSTGRES_DSN"

// ErrUnavailable reports that neither SELLO_TEST_POSTGRES_DSN is set nor
// initdb is installed, so no server can be had.
var ErrUnavailable = errors.New("pgtest: no PostgreSQL server: set " + EnvDSN + " or install initdb")

// Required reports whether SELLO_TEST_REQUIRE lists postgres, in which case
// a missing server must fail the tests instead of skipping them.
func Required() bool {
	return slices.Contains(strings.Split(os.Getenv("SELLO_TEST_REQUIRE"), ","), "postgres")
}

// Server is a PostgreSQL server that tests may create databases on. It is
// safe for concurrent use.
type Server struct {
	dsn   string        // of the maintenance database
	admin *pgxpool.Pool // on dsn, for CREATE and DROP DATABASE
	next  atomic.Int64  // numbers the databases
	// Only for a throwaway cluster:
	dir    string // temporary directory: data/, the socket, the log
	pgCtl  string
	asUser bool // run pg_ctl as the postgres user
}

// Start returns the server of SELLO_TEST_POSTGRES_DSN when it is set, and
// otherwise initialises and starts a throwaway cluster. It returns an error
// wrapping ErrUnavailable when there is no initdb to run. The caller must
// Stop the server.
func Start(ctx context.Context) (*Server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		s := &Server{dsn: dsn}
		if err := s.connect(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	initdb, err := findTool("initdb")
	if err != nil {
		return nil, err
	}
	pgCtl := filepath.Join(filepath.Dir(initdb), "pg_ctl")
	if _, err := os.Stat(pgCtl); err != nil {
		if pgCtl, err = findTool("pg_ctl"); err != nil {
			return nil, err
		}
	}
	s := &Server{pgCtl: pgCtl, asUser: os.Geteuid() == 0}
	if err := s.initCluster(ctx, initdb); err != nil {
		s.Stop()
		return nil, err
	}
	// Another process may take the free port between the probe and the
	// server's bind; try again on a new port.
	for attempt := 0; ; attempt++ {
		err = s.startCluster(ctx)
		if err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.connect(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// findTool looks for a PostgreSQL server program on PATH, then in the
// Debian layout /usr/lib/postgresql/VERSION/bin, newest version first.
func findTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	slices.SortFunc(matches, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return vb - va
	})
	if len(matches) == 0 {
		return "", fmt.Errorf("%w (%s not found)", ErrUnavailable, name)
	}
	return matches[0], nil
}

// command returns the command that runs a server program, as the postgres
// user when the tests run as root.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if s.asUser {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.CommandContext(ctx, name, args...)
}

// run runs a server program and returns its output in the error when it
// fails.
func (s *Server) run(ctx context.Context, name string, args ...string) error {
	cmd := s.command(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: %s: %w\n%s", filepath.Base(name), err, out.Bytes())
	}
	return nil
}

// initCluster creates the temporary directory and runs initdb in it.
func (s *Server) initCluster(ctx context.Context, initdb string) error {
	dir, err := os.MkdirTemp("", "sello-pgtest-")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.dir = dir
	if s.asUser {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("pgtest: running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	// Trust authentication is safe here: the server listens on 127.0.0.1
	// and on a socket in a directory only its user can enter.
	return s.run(ctx, initdb, "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync")
}

// startCluster starts the server on a free port and waits until it accepts
// connections.
func (s *Server) startCluster(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// Durability is of no use to a throwaway cluster; without it, creating
	// a database per test is fast.
	opts := strings.Join([]string{
		"-k", s.dir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200",
	}, " ")
	if err := s.run(ctx, s.pgCtl, "-D", filepath.Join(s.dir, "data"), "-l", filepath.Join(s.dir, "log"),
		"-o", opts, "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	s.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return nil
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// connect opens the maintenance pool.
func (s *Server) connect(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, s.dsn)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	s.admin = pool
	return nil
}

// Stop closes the maintenance connections and, for a throwaway cluster,
// stops the server at once and removes its directory. It is safe to call
// on a partly started server.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.dir == "" {
		return nil
	}
	var err error
	if _, statErr := os.Stat(filepath.Join(s.dir, "data", "postmaster.pid")); statErr == nil {
		// The context of the tests may be gone by now; stopping must not
		// depend on it.
		err = s.run(context.Background(), s.pgCtl, "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	if rmErr := os.RemoveAll(s.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("pgtest: %w", rmErr)
	}
	return err
}

// NewDatabase creates an empty database for t, drops it when t ends, and
// returns a DSN that names it.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("sello_test_%d_%d", os.Getpid(), s.next.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := s.admin.Exec(t.Context(), "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is cancelled before cleanups run.
		// WITH (FORCE) ends connections a test may have left open.
		if _, err := s.admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(s.dsn, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// withDatabase returns dsn with its database replaced by name. dsn is a URL
// or keyword/value pairs.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// The parse error would show the password.
			return "", fmt.Errorf("%s is not a valid URL", EnvDSN)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form a later keyword overrides an earlier one.
	return dsn + " dbname=" + name, nil
}
