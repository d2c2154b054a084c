package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

// retireAfter is how long a key must have stopped signing before it can go:
// the access-token lifetime, the verifiers' leeway and the JWKS cache age.
const retireAfter = token.DefaultAccessTTL + token.DefaultLeeway + 5*time.Minute

// runKeys manages the edge's signing keys without signing anyone out:
//
//	emporium keys list
//	emporium keys add           publish a new key (not signing yet)
//	emporium keys activate KID  sign with it (the old key stays published)
//	emporium keys retire-old    stop publishing keys unused for 20 minutes
//
// Edges read the file at start: restart them after add and activate, and
// wait five minutes between the two so every JWKS cache has the new key.
func runKeys(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := config.NewFlagSet("keys", stderr)
	path := fs.String("signing-keys", "data/signing-keys.json", "the edge's signing-key file")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	verb := fs.Arg(0)
	ks, err := token.LoadKeySet(*path)
	if err != nil {
		return err
	}
	switch verb {
	case "list", "":
	case "add":
		k, err := token.GenerateKey()
		if err != nil {
			return err
		}
		if err := ks.Add(k); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Added key %s (published, not signing). Restart the edges, wait 5 minutes, then run: emporium keys activate %s\n", k.ID, k.ID)
	case "activate":
		kid := fs.Arg(1)
		var next *token.Key
		for _, k := range ks.Keys() {
			if k.ID == kid {
				next = &k
			}
		}
		if next == nil {
			return fmt.Errorf("no key %q in %s: run 'emporium keys list'", kid, *path)
		}
		if err := ks.Rotate(next); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Key %s signs from now on; restart the edges. Tokens of the old key stay valid until they expire.\n", kid)
	case "retire-old":
		retired, err := ks.RetireInactiveSince(time.Now().Add(-retireAfter))
		if err != nil {
			return err
		}
		if len(retired) == 0 {
			fmt.Fprintln(stdout, "No key has been unused long enough to retire.")
		}
		for _, kid := range retired {
			fmt.Fprintf(stdout, "Retired key %s.\n", kid)
		}
	default:
		return errors.New("usage: emporium keys [--signing-keys PATH] list|add|activate KID|retire-old")
	}
	active := ks.Active()
	for _, k := range ks.Keys() {
		state := "published, not signing yet"
		switch {
		case k.ID == active.ID:
			state = "signing"
		case !k.Deactivated.IsZero():
			state = "stopped signing " + k.Deactivated.Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s  created %s  %s\n", k.ID, k.Created.Format(time.RFC3339), state)
	}
	return nil
}
