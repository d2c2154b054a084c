// Package chaos is the fault-injection suite of the shop: its test
// (TestChaos, run by `go tool task chaos` and, short, by `go tool task
// test-chaos`) starts the real bin/emporium as separate processes on a
// PostgreSQL cluster and a Redis server of its own, runs the shopper loop
// of bench/shop against the edge, injects faults (kill -9 of the process
// running order and payment, PostgreSQL and Redis restarts, outages of
// the SMTP relay, Twilio, UPS and Stripe, two edges sharing Redis, a soak)
// and then checks the books in the databases, through the APIs and at the
// fakes of the outside systems. docs/reliability.md describes what
// it promises and holds the figures of the last full run.
//
// It is a test gated by EMPORIUM_CHAOS (smoke or full) rather than a
// program so that it can use the project's fakes of outside systems
// (svc/notification/channel/channeltest, svc/shipping/ups/upstest,
// svc/payment/provider/stripetest), and so that every process and
// server it starts is stopped by t.Cleanup however it ends. Without the
// variable it skips, so `go test ./...` does not run it.
package chaos
