package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dsn  string
	}{
		{"URL", "postgres://u:p%40ss@127.0.0.1:5433/postgres?sslmode=disable"},
		{"URL without database", "postgresql://u@localhost:5432?sslmode=disable"},
		{"keyword/value", "host=127.0.0.1 port=5433 user=u dbname=postgres sslmode=disable"},
		{"keyword/value without database", "host=127.0.0.1 user=u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := withDatabase(tt.dsn, "sello_test_1_2")
			if err != nil {
				t.Fatalf("withDatabase = %v", err)
			}
			want, err := pgconn.ParseConfig(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := pgconn.ParseConfig(got)
			if err != nil {
				t.Fatalf("ParseConfig(%q) = %v", got, err)
			}
			if cfg.Database != "sello_test_1_2" {
				t.Errorf("database of %q = %q, want sello_test_1_2", got, cfg.Database)
			}
			if cfg.Host != want.Host || cfg.Port != want.Port || cfg.User != want.User || cfg.Password != want.Password {
				t.Errorf("withDatabase(%q) = %q: connection settings changed", tt.dsn, got)
			}
		})
	}
}
