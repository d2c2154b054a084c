// Package e2e proves that the shop still works when every service runs as
// its own process. Its test (TestCluster, run by `go tool task test-cluster`
// and so by `go tool task test`) starts bin/emporium nine times on loopback
// through bench/cluster: product twice, user, order, payment, shipping and
// notification once each, and two edges that share Redis limits and
// signing keys, all on one PostgreSQL (a schema per service) and one Redis
// of the test's own. It runs the shopper journey through both edges, kills
// a product replica and an edge with SIGKILL in the middle, and checks that
// no acknowledged order is lost or doubled, that one checkout is one trace
// across the edge, order, product and payment processes down to their
// database statements (received by an OTLP/HTTP endpoint in the test), and
// that every process serves the Prometheus metrics the Grafana dashboard
// in deploy/grafana reads.
//
// Without EMPORIUM_E2E=1 it skips, so `go test ./...` does not run it
// (it needs the binary built first).
package e2e
