package pkitest

import (
	"bytes"
	"crypto/x509"
	"os"
	"testing"
)

func TestIssueVerifies(t *testing.T) {
	t.Parallel()
	for _, kt := range KeyTypes() {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			root := NewCA(t, Options{KeyType: kt})
			inter := root.NewIntermediate(t, Options{KeyType: kt})
			key := inter.Issue(t, Options{KeyType: kt, CommonName: "Ana Pérez"})
			if got := len(key.Chain); got != 3 {
				t.Fatalf("len(Chain) = %d, want 3", got)
			}
			inters := x509.NewCertPool()
			inters.AddCert(key.Chain[1])
			_, err := key.Chain[0].Verify(x509.VerifyOptions{
				Roots:         root.Pool(),
				Intermediates: inters,
				CurrentTime:   DefaultNotBefore().AddDate(1, 0, 0),
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
			})
			if err != nil {
				t.Fatalf("Verify() = %v", err)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, kt := range KeyTypes() {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			a := NewCA(t, Options{KeyType: kt}).Issue(t, Options{KeyType: kt})
			b := NewCA(t, Options{KeyType: kt}).Issue(t, Options{KeyType: kt})
			if !bytes.Equal(a.Chain[0].Raw, b.Chain[0].Raw) {
				t.Error("two runs gave different leaf certificates")
			}
		})
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	key := NewCA(t, Options{}).Issue(t, Options{})
	kf, cf := WritePEM(t, key)
	p12 := WritePKCS12(t, key, "secret")
	for _, f := range []string{kf, cf, p12} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("Stat(%q) = %v, %v; want a non-empty file", f, fi, err)
		}
	}
}

func TestTimeStampingCertificate(t *testing.T) {
	t.Parallel()
	key := NewCA(t, Options{}).Issue(t, Options{CommonName: "TSA", TimeStamping: true})
	c := key.Chain[0]
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		t.Errorf("ExtKeyUsage = %v %v, want timeStamping only", c.ExtKeyUsage, c.UnknownExtKeyUsage)
	}
	critical := false
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	if !critical {
		t.Error("extended key usage is not critical")
	}
}
