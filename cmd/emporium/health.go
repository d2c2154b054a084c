package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"connectrpc.com/grpchealth"

	"github.com/emporiumhq/emporium/internal/platform/config"
)

// runHealth asks a serving process on this host whether it is healthy, over
// the gRPC health protocol, and fails unless it answers SERVING. It is the
// container health check (the image has no shell and no curl): with no flags
// it asks the process that `emporium serve` started with the same
// EMPORIUM_LISTEN.
func runHealth(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := config.NewFlagSet("health", stderr)
	listen := fs.String("listen", ":8080", "the address the process serves on (as its --listen); an empty host means this host")
	service := fs.String("service", "", "the gRPC service to ask about, e.g. emporium.product.v1.ProductService; empty: the whole process")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := grpchealth.NewClient(http.DefaultClient, "http://"+net.JoinHostPort(host, port))
	res, err := client.Check(ctx, &grpchealth.CheckRequest{Service: *service})
	if err != nil {
		return fmt.Errorf("health of %s: %w", net.JoinHostPort(host, port), err)
	}
	if res.Status != grpchealth.StatusServing {
		return fmt.Errorf("health of %s: %s", net.JoinHostPort(host, port), res.Status)
	}
	_, err = fmt.Fprintln(stdout, "serving")
	return err
}
