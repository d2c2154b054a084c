package token

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadKeySet(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "secrets", "jwt-keys.json")

	ks, err := LoadKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(os.FileMode(0o600), fi.Mode().Perm()); diff != "" {
		t.Errorf("key file mode (-want +got):\n%s", diff)
	}
	s := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	before := mustSign(t, s, "user-1", []string{"customer"}, "sid")

	// A restart loads the same key: tokens signed before it still verify.
	again, err := LoadKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ks.Keys(), again.Keys()); diff != "" {
		t.Errorf("reloaded keys (-want +got):\n%s", diff)
	}
	if _, err := mustStaticVerifier(t, again).Verify(ctx, before); err != nil {
		t.Errorf("token from before the restart: %v", err)
	}

	// Changes to a loaded set are written back.
	next := mustKey(t)
	if err := again.Rotate(next); err != nil {
		t.Fatal(err)
	}
	third, err := LoadKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again.Keys(), third.Keys()); diff != "" {
		t.Errorf("keys after Rotate and reload (-want +got):\n%s", diff)
	}
	if third.Active().ID != next.ID || len(third.Keys()) != 2 || third.Keys()[1].Deactivated.IsZero() {
		t.Errorf("after Rotate: %+v", third.Keys())
	}
	fi, err = os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after a rewrite: %v", fi.Mode().Perm())
	}
	if err := third.Retire(ks.Active().ID); err != nil {
		t.Fatal(err)
	}
	fourth, err := LoadKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range fourth.Keys() {
		ids = append(ids, k.ID)
	}
	if diff := cmp.Diff([]string{next.ID}, ids); diff != "" {
		t.Errorf("keys after Retire and reload (-want +got):\n%s", diff)
	}
	if _, err := mustStaticVerifier(t, fourth).Verify(ctx, before); err == nil {
		t.Error("token of a retired key verified after reload")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLoadKeySetRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys.json")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		kids = map[string]bool{}
	)
	for range 8 {
		wg.Go(func() {
			ks, err := LoadKeySet(path)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			kids[ks.Active().ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(kids) != 1 {
		t.Errorf("processes racing to create the key file got %d different keys", len(kids))
	}
}

func TestParseKeysRejects(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	good, err := MarshalKeys([]*Key{k})
	if err != nil {
		t.Fatal(err)
	}
	pub := mustKey(t)
	pub.Private = nil
	pubOnly, err := MarshalKeys([]*Key{k, pub})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    string
		wantErr bool
	}{
		{"good", string(good), false},
		{"verification-only key beside the active one", string(pubOnly), false},
		{"not JSON", "-----BEGIN", true},
		{"no keys", `{"active":"x","keys":[]}`, true},
		{"active key missing", `{"active":"x","keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + k.ID + `","x":"` + b64.EncodeToString(k.Public) + `","d":"` + b64.EncodeToString(k.Private.Seed()) + `"}]}`, true},
		{"active key without private part", `{"active":"` + k.ID + `","keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + k.ID + `","x":"` + b64.EncodeToString(k.Public) + `"}]}`, true},
		{"private part of another key", `{"active":"` + k.ID + `","keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + k.ID + `","x":"` + b64.EncodeToString(k.Public) + `","d":"` + b64.EncodeToString(pub.Public) + `"}]}`, true},
		{"bad private part", `{"active":"` + k.ID + `","keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + k.ID + `","x":"` + b64.EncodeToString(k.Public) + `","d":"AAAA"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseKeys([]byte(tt.data)); (err != nil) != tt.wantErr {
				t.Errorf("ParseKeys: %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeySet(bad); err == nil {
		t.Error("LoadKeySet of a corrupt file succeeded")
	}
}
