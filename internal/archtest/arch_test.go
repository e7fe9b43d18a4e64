// Package archtest checks the dependency rules of STYLE.md §2: the domain
// packages never depend on HTTP or SQL, directly or through another package.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// domain lists the packages that must stay free of transports and stores.
var domain = []string{
	"sello/internal/pdf",
	"sello/internal/cms",
	"sello/internal/pades",
	"sello/internal/appearance",
	"sello/internal/keys",
	"sello/internal/ca",
	"sello/internal/identity",
	"sello/internal/auth",
	"sello/internal/signing",
}

// forbidden are the packages a domain package may not reach, with their
// subpackages. database/sql/driver alone is allowed: it only declares
// interfaces, which identifier types such as UUIDs implement.
var forbidden = []string{
	"net/http",
	"modernc.org/sqlite",
	"github.com/jackc/pgx/v5",
	"sello/internal/httpapi",
	"sello/internal/config",
}

func TestDomainDependencies(t *testing.T) {
	t.Parallel()
	for _, pkg := range domain {
		t.Run(strings.TrimPrefix(pkg, "sello/internal/"), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			deps := strings.Fields(string(out))
			for _, dep := range deps {
				if dep == "database/sql" {
					t.Errorf("%s depends on database/sql", pkg)
				}
				for _, f := range forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s depends on %s", pkg, dep)
					}
				}
			}
		})
	}
}
