// Package deptest holds the boundary test of the module, in the spirit of
// tailscale's tstest/deptest: it asks `go list` for every package's direct
// imports, tests included, and fails on an import that crosses a boundary
// of the architecture (a service importing another service, the edge
// importing a service, platform importing a service or the edge), and on a
// package without a package comment.
//
// Services reach each other only over Connect, through the clients in gen/;
// the one place that may bring several services into one test process is
// the shared test world, internal/testworld, which any package may import.
//
// The package has no code of its own: run it with
//
//	go test ./internal/deptest/
package deptest
