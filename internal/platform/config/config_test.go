package config

import (
	"flag"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    map[string]string
		wantErr bool
	}{
		{name: "defaults", want: map[string]string{"listen": ":8080", "services": "product"}},
		{
			name: "env fills unset flags",
			env:  map[string]string{"EMPORIUM_LISTEN": ":9000", "EMPORIUM_SERVICES": "product, user"},
			want: map[string]string{"listen": ":9000", "services": "product,user"},
		},
		{
			name: "flag wins over env",
			args: []string{"--listen", ":7000"},
			env:  map[string]string{"EMPORIUM_LISTEN": ":9000"},
			want: map[string]string{"listen": ":7000", "services": "product"},
		},
		{name: "bad env value", env: map[string]string{"EMPORIUM_WORKERS": "many"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			listen := fs.String("listen", ":8080", "")
			services := List{"product"}
			fs.Var(&services, "services", "")
			fs.Int("workers", 1, "")
			err := Parse(fs, tt.args, func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse() error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			got := map[string]string{"listen": *listen, "services": services.String()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	if got, want := EnvName("database-url"), "EMPORIUM_DATABASE_URL"; got != want {
		t.Errorf("EnvName = %q, want %q", got, want)
	}
}
