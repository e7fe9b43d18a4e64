package migrate

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		want    []Migration
		wantErr bool
	}{
		{"ordered by version", fstest.MapFS{
			"m/0002_b.sql": {Data: []byte("B")},
			"m/0001_a.sql": {Data: []byte("A")},
			"m/README":     {Data: []byte("ignored")},
		}, []Migration{{1, "0001_a.sql", "A"}, {2, "0002_b.sql", "B"}}, false},
		{"no version", fstest.MapFS{"m/a.sql": {Data: []byte("A")}}, nil, true},
		{"zero version", fstest.MapFS{"m/0000_a.sql": {Data: []byte("A")}}, nil, true},
		{"duplicate version", fstest.MapFS{
			"m/0001_a.sql": {Data: []byte("A")},
			"m/1_b.sql":    {Data: []byte("B")},
		}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tc.files, "m")
			if (err != nil) != tc.wantErr {
				t.Fatalf("Load error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}
