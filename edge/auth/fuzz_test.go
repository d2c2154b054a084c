package auth_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"connectrpc.com/connect"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/internal/platform/oidctest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

// FuzzFinishProviderLogin sends the OIDC callback's parameters as a
// browser could forge them: any state (or the state of a sign-in really
// started) with any code. No such callback may start a session: a state
// we did not issue is invalid_argument, a code the provider did not issue
// for it is unauthenticated, and the state is spent either way.
func FuzzFinishProviderLogin(f *testing.F) {
	e := newEnv(f, roomy)
	e.provider.SignIn(oidctest.Person{Subject: "fuzz-1", Email: "fuzz@example.com", EmailVerified: true})
	f.Add(true, "", "")
	f.Add(true, "", "a-code")
	f.Add(false, "state", "code")
	f.Add(false, "", "")
	f.Add(true, "x", "\x00")
	f.Add(false, "../../etc/passwd", "%00")
	f.Fuzz(func(t *testing.T, started bool, state, code string) {
		if !utf8.ValidString(state) || !utf8.ValidString(code) {
			t.Skip("proto strings are UTF-8: a client cannot send this")
		}
		ctx := context.Background()
		want := connect.CodeInvalidArgument
		if started {
			start, err := e.auth.StartProviderLogin(ctx, &authv1.StartProviderLoginRequest{ProviderId: "test", RedirectUri: redirectURI})
			if err != nil {
				t.Fatal(err)
			}
			state, want = start.GetState(), connect.CodeUnauthenticated
		}
		res, err := e.auth.FinishProviderLogin(ctx, &authv1.FinishProviderLoginRequest{State: state, Code: code})
		if err == nil {
			t.Fatalf("a forged callback (state %q, code %q) started a session: %v", state, code, res)
		}
		if len(testkit.ViolationFields(err)) > 0 {
			return // the request's rules refused it (an empty code, a NUL) before the handler ran
		}
		if got := connect.CodeOf(err); got != want {
			t.Fatalf("state %q (started: %v), code %q: %v, want %v", state, started, code, err, want)
		}
		if started {
			_, again := e.auth.FinishProviderLogin(ctx, &authv1.FinishProviderLoginRequest{State: state, Code: code + "x"})
			if connect.CodeOf(again) != connect.CodeInvalidArgument {
				t.Fatalf("a state used once was accepted again: %v", again)
			}
		}
	})
}
