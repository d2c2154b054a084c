package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/emporiumhq/emporium/internal/platform/config"
)

// TestComposeFile loads compose.yaml the way `docker compose` does (with
// compose-go, its loader), with .env.example as the .env a user makes, and
// checks it against this binary: every container of the emporium image runs
// a command and flags the binary has, the services it names are the
// modules' (the list `--services` comes from), every service runs somewhere,
// each process can reach every peer it calls, and the parts the deployment
// story depends on are there (health checks, the migrate job first, two edge
// replicas, pinned images, secrets only in the git-ignored .env).
func TestComposeFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyFile(t, "../../compose.yaml", filepath.Join(dir, "compose.yaml"))
	copyFile(t, "../../.env.example", filepath.Join(dir, ".env"))
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithEnvFiles(), cli.WithDotEnv)
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker compose would refuse compose.yaml: %v", err)
	}

	mods := modules()
	known := append(moduleNames(mods), "edge")
	allEnv := flagEnvNames(t)
	runsAt := map[string]string{} // service module (or edge) → compose service running it
	var emporium []types.ServiceConfig
	for _, name := range project.ServiceNames() {
		svc := project.Services[name]
		if svc.Image != "emporium:dev" && !strings.Contains(imageTag(svc.Image), ".") { // a version, not latest or a bare major
			t.Errorf("%s: image %q: pin a version tag", name, svc.Image)
		}
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind {
				rel, err := filepath.Rel(dir, v.Source)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join("../..", rel)); err != nil {
					t.Errorf("%s: mounts %s, which is not in the repository: %v", name, rel, err)
				}
			}
		}
		if svc.Image != "emporium:dev" {
			continue
		}
		emporium = append(emporium, svc)
		if svc.Build == nil {
			t.Errorf("%s: the emporium image has no build section", name)
		}
		if len(svc.EnvFiles) != 1 || filepath.Base(svc.EnvFiles[0].Path) != ".env" || !svc.EnvFiles[0].Required {
			t.Errorf("%s: env_file %+v, want the required .env", name, svc.EnvFiles)
		}
		for k := range svc.Environment {
			if strings.HasPrefix(k, "EMPORIUM_") && !allEnv[k] {
				t.Errorf("%s: %s is no flag's variable (docs/config.md lists them)", name, k)
			}
		}
		checkCommandParses(t, name, svc.Command)
		if len(svc.Command) == 0 || svc.Command[0] != "serve" {
			continue
		}
		services := flagValue(svc, "services")
		if services == "" {
			t.Errorf("%s: serve without --services", name)
			continue
		}
		local := strings.Split(services, ",")
		for _, s := range local {
			if !slices.Contains(known, s) {
				t.Errorf("%s: --services names %q, which `emporium serve` does not have (it has %s)", name, s, strings.Join(known, ", "))
			}
			runsAt[s] = name
		}
		if svc.HealthCheck == nil || svc.HealthCheck.Disable || len(svc.HealthCheck.Test) == 0 {
			t.Errorf("%s: no health check", name)
		}
		if d, ok := svc.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s: does not wait for the migrate job to complete", name)
		}
		if slices.Contains(local, "edge") {
			if svc.Deploy == nil || svc.Deploy.Replicas == nil || *svc.Deploy.Replicas < 2 {
				t.Errorf("%s: the edge runs in one container, want deploy.replicas: 2 behind the load balancer", name)
			}
		}
	}
	for _, m := range mods {
		if _, ok := runsAt[m.Name()]; !ok {
			t.Errorf("no container runs the %s service", m.Name())
		}
	}
	if _, ok := runsAt["edge"]; !ok {
		t.Error("no container runs the edge")
	}

	// Every peer a process calls is in it or at an --upstream that points at
	// the container running it; the edge needs every service.
	for _, svc := range emporium {
		if len(svc.Command) == 0 || svc.Command[0] != "serve" {
			continue
		}
		local := strings.Split(flagValue(svc, "services"), ",")
		upstreams := map[string]string{}
		for _, part := range strings.Split(flagValue(svc, "upstream"), ";") {
			if name, addr, ok := strings.Cut(part, "="); ok {
				upstreams[name] = addr
			}
		}
		var need []string
		for _, m := range mods {
			if slices.Contains(local, "edge") {
				need = append(need, m.Name())
			}
			if slices.Contains(local, m.Name()) {
				for _, p := range m.Peers() {
					need = append(need, p.Name)
				}
			}
		}
		for _, peer := range need {
			if slices.Contains(local, peer) {
				continue
			}
			addr, ok := upstreams[peer]
			if !ok {
				t.Errorf("%s calls %s but has no upstream for it", svc.Name, peer)
				continue
			}
			u, err := url.Parse(addr)
			if err != nil || u.Hostname() != runsAt[peer] {
				t.Errorf("%s: upstream %s=%s, want the container running %s (%s)", svc.Name, peer, addr, peer, runsAt[peer])
			}
		}
	}

	// Every http:// address an emporium container is given names a container.
	for _, svc := range emporium {
		values := slices.Clone([]string(svc.Command))
		for _, v := range svc.Environment {
			if v != nil {
				values = append(values, *v)
			}
		}
		for _, v := range values {
			for _, field := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == '=' || r == ' ' }) {
				if !strings.HasPrefix(field, "http://") && !strings.HasPrefix(field, "postgres://") && !strings.HasPrefix(field, "redis://") {
					continue
				}
				u, err := url.Parse(field)
				if err != nil {
					t.Errorf("%s: %q: %v", svc.Name, field, err)
					continue
				}
				if _, ok := project.Services[u.Hostname()]; !ok && u.Hostname() != "localhost" {
					t.Errorf("%s: %s points at %q, which is no container", svc.Name, field, u.Hostname())
				}
			}
		}
	}

	ignore, err := os.ReadFile("../../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(ignore), "\n"), "/.env") {
		t.Error(".gitignore does not keep .env (compose's secrets) out of git")
	}
}

// checkCommandParses runs `emporium <command> <its flags> --help`: the flags
// parse (an unknown or malformed one fails) and nothing runs.
func checkCommandParses(t *testing.T, container string, command []string) {
	t.Helper()
	if len(command) == 0 {
		t.Errorf("%s: no command", container)
		return
	}
	n := 1 // the flags run to the first argument that is not one; compose.yaml writes --flag=value
	for n < len(command) && strings.HasPrefix(command[n], "-") {
		if !strings.Contains(command[n], "=") {
			t.Errorf("%s: write %s as --flag=value, so the command reads unambiguously", container, command[n])
		}
		n++
	}
	args := append(slices.Clone(command[:n]), "--help")
	err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("%s: emporium %s: %v", container, strings.Join(command, " "), err)
	}
}

// flagValue is flag name's value in a container: from its command
// (--name=value or --name value), else its EMPORIUM_ variable.
func flagValue(svc types.ServiceConfig, name string) string {
	for i, a := range svc.Command {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(svc.Command) {
			return svc.Command[i+1]
		}
	}
	if v := svc.Environment[config.EnvName(name)]; v != nil {
		return *v
	}
	return ""
}

// flagEnvNames are the variables of every command's flags.
func flagEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, c := range commands() {
		var help bytes.Buffer
		_ = run(context.Background(), []string{c.name, "--help"}, func(string) string { return "" }, io.Discard, &help)
		for _, line := range strings.Split(help.String(), "\n") {
			var flagName, env string
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "--%s [%s", &flagName, &env); err == nil {
				names[strings.TrimSuffix(env, "]")] = true
			}
		}
	}
	return names
}

func imageTag(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
