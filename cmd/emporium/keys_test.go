package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/token"
)

// TestKeyRotationSignsNobodyOut walks the operator's rotation: add, activate,
// retire-old; a token from before the rotation still verifies after it.
func TestKeyRotationSignsNobodyOut(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys.json")
	keys := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"keys", "--signing-keys", path}, args...), func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatalf("keys %v: %v", args, err)
		}
		return out.String()
	}
	keys("list") // makes the file with a first key
	before, err := token.LoadKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	oldKid := before.Active().ID
	signed, _, err := (&token.Signer{Keys: before, Issuer: "emporium", Audience: tokenAudience}).Sign("user-1", []string{"customer"}, "")
	if err != nil {
		t.Fatal(err)
	}

	newKid := regexp.MustCompile(`Added key (\S+)`).FindStringSubmatch(keys("add"))[1]
	if out := keys("activate", newKid); !strings.Contains(out, newKid+"  created") || !strings.Contains(out, "signing") {
		t.Fatalf("after activate:\n%s", out)
	}
	if out := keys("retire-old"); !strings.Contains(out, "No key has been unused long enough") || !strings.Contains(out, oldKid) {
		t.Fatalf("retire-old right after rotating must keep the old key:\n%s", out)
	}

	after, err := token.LoadKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Active().ID != newKid {
		t.Fatalf("active key %s, want %s", after.Active().ID, newKid)
	}
	v, err := token.NewStaticVerifier(after, "emporium", tokenAudience)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.Verify(context.Background(), signed); err != nil || c.KeyID != oldKid {
		t.Errorf("a token signed before the rotation: %v, %v; want it still valid", c, err)
	}
	fresh, _, err := (&token.Signer{Keys: after, Issuer: "emporium", Audience: tokenAudience}).Sign("user-1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.Verify(context.Background(), fresh); err != nil || c.KeyID != newKid {
		t.Errorf("a token signed after the rotation: %v, %v; want the new key", c, err)
	}
	if err := run(context.Background(), []string{"keys", "--signing-keys", path, "activate", "nope"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("activating an unknown key succeeded")
	}
}
