package user_test

import (
	"context"
	"fmt"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/user"
)

// Passwords of the accounts every env registers.
const (
	alicePassword = "tangerine-bicycle-91"
	bobPassword   = "granite-harbor-lamp-3"
	staffPassword = "copper-meadow-fox-17"
	adminPassword = "saffron-glacier-owl-55"
)

// clock is the service's Now, moved by tests.
type clock = clocktest.Clock

// env is one user service on a real loopback HTTP server (HTTP/1.1 and h2c)
// over a real database, with a real dev mailbox. alice and bob are
// customers, staff and admin hold those roles; each has a client sending its
// own bearer token, and "service" is the edge's principal for internal RPCs.
type env struct {
	svc     *user.Service
	mail    *mailbox.Mailbox
	clock   *clock
	url     string
	ids     map[string]string // alice, bob, staff, admin → user id
	anon    userv1connect.UserServiceClient
	alice   userv1connect.UserServiceClient
	bob     userv1connect.UserServiceClient
	staff   userv1connect.UserServiceClient
	admin   userv1connect.UserServiceClient
	service userv1connect.UserServiceClient
}

func newEnv(t *testing.T, engine string) *env {
	t.Helper()
	d := dbtest.Open(t, engine, "users", user.Migrations)
	log := logx.Discard()
	e := &env{
		mail:  mailbox.New(),
		clock: clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		ids:   map[string]string{},
	}
	svc, err := user.New(user.Deps{DB: d, Mail: e.mail, PublicURL: "http://shop.test/", Log: log, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	ctx := context.Background()
	for name, pw := range map[string]string{"alice": alicePassword, "bob": bobPassword, "staff": staffPassword} {
		if _, err := svc.Register(ctx, &userv1.RegisterRequest{Email: name + "@example.com", Password: pw, DisplayName: strings.ToUpper(name[:1]) + name[1:]}); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
		sub, err := svc.CheckPassword(ctx, &userv1.CheckPasswordRequest{Email: name + "@example.com", Password: pw})
		if err != nil || sub.GetSubject() == nil {
			t.Fatalf("sign-in check of %s: %v, %v", name, sub, err)
		}
		e.ids[name] = sub.GetSubject().GetUserId()
	}
	if created, err := svc.EnsureAdmin(ctx, "admin@example.com", adminPassword); err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	admins, err := svc.ListUsers(ctx, &userv1.ListUsersRequest{Query: "admin@example.com"})
	if err != nil || len(admins.GetUsers()) != 1 {
		t.Fatalf("find admin: %v, %v", admins, err)
	}
	e.ids["admin"] = admins.GetUsers()[0].GetId()
	asAdmin := authz.WithPrincipal(ctx, &authz.Principal{Subject: e.ids["admin"], Roles: []string{authz.RoleAdmin}})
	if _, err := svc.SetRoles(asAdmin, &userv1.SetRolesRequest{Id: e.ids["staff"], Roles: []userv1.Role{userv1.Role_ROLE_STAFF}}); err != nil {
		t.Fatal(err)
	}

	auth := authz.NewStaticTokens(map[string]*authz.Principal{
		"alice-token":   {Subject: e.ids["alice"], Roles: []string{authz.RoleCustomer}},
		"bob-token":     {Subject: e.ids["bob"], Roles: []string{authz.RoleCustomer}},
		"staff-token":   {Subject: e.ids["staff"], Roles: []string{authz.RoleStaff}},
		"admin-token":   {Subject: e.ids["admin"], Roles: []string{authz.RoleAdmin}},
		"service-token": {Subject: "edge", Roles: []string{authz.RoleService}},
	})
	opts, err := serve.HandlerOptions(log, auth)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	e.url = servetest.Start(t, mux)
	client := func(token string) userv1connect.UserServiceClient {
		if token == "" {
			return userv1connect.NewUserServiceClient(http.DefaultClient, e.url)
		}
		return userv1connect.NewUserServiceClient(http.DefaultClient, e.url, servetest.Bearer(token))
	}
	e.anon, e.alice, e.bob = client(""), client("alice-token"), client("bob-token")
	e.staff, e.admin, e.service = client("staff-token"), client("admin-token"), client("service-token")
	return e
}

func forEachEngine(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) { f(t, newEnv(t, engine)) })
}

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

var linkPattern = regexp.MustCompile(`(http://shop\.test/[a-z-]+)\?token=([A-Za-z0-9_-]+)`)

// link returns the page and token of the link in the newest message to
// email whose subject contains subject, read from the mailbox like a person
// would.
func (e *env) link(t *testing.T, email, subject string) (page, token string) {
	t.Helper()
	for _, m := range e.mail.List() {
		if m.To == email && strings.Contains(m.Subject, subject) {
			got := linkPattern.FindStringSubmatch(m.Text)
			if got == nil {
				t.Fatalf("message %q to %s has no link:\n%s", m.Subject, email, m.Text)
			}
			return got[1], got[2]
		}
	}
	t.Fatalf("no message %q to %s in the mailbox", subject, email)
	return "", ""
}

func (e *env) messagesTo(email string) int {
	n := 0
	for _, m := range e.mail.List() {
		if m.To == email {
			n++
		}
	}
	return n
}

func (e *env) me(t *testing.T, c userv1connect.UserServiceClient) *userv1.User {
	t.Helper()
	res, err := c.GetMe(context.Background(), &userv1.GetMeRequest{})
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	return res.GetUser()
}

func (e *env) checkPassword(t *testing.T, email, password string) *userv1.Subject {
	t.Helper()
	res, err := e.service.CheckPassword(context.Background(), &userv1.CheckPasswordRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("CheckPassword(%s): %v", email, err)
	}
	return res.GetSubject()
}

func TestEveryRPCDeclaresAnAccessRule(t *testing.T) {
	t.Parallel()
	file := userv1.File_emporium_user_v1_user_proto
	if missing := authz.AuditRules(file.Services().Get(0)); len(missing) > 0 {
		t.Fatalf("RPCs without an access rule: %v", missing)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		res, err := e.anon.Register(ctx, &userv1.RegisterRequest{
			Email: "Carol.Jones@Example.COM", Password: "nutmeg-tower-violin-8", DisplayName: "Carol", MarketingOptIn: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1019 the deprecated field must stay empty
		if res.GetUser() != nil {
			t.Errorf("Register described the account: %v; its answer must not depend on whether the email was taken", res)
		}
		sub := e.checkPassword(t, "carol.jones@example.com", "nutmeg-tower-violin-8")
		if sub.GetUserId() == "" {
			t.Fatalf("new account cannot sign in: subject %v", sub)
		}
		found, err := e.svc.ListUsers(ctx, &userv1.ListUsersRequest{Query: "carol.jones@example.com"})
		if err != nil || len(found.GetUsers()) != 1 {
			t.Fatalf("ListUsers: %v, %v", found, err)
		}
		u := found.GetUsers()[0]
		want := &userv1.User{
			Id: sub.GetUserId(), Email: "carol.jones@example.com", DisplayName: "Carol", MarketingOptIn: true,
			Roles: []userv1.Role{userv1.Role_ROLE_CUSTOMER}, Status: userv1.UserStatus_USER_STATUS_ACTIVE,
			CreateTime: u.GetCreateTime(), UpdateTime: u.GetUpdateTime(),
		}
		if diff := cmp.Diff(want, u, protocmp.Transform()); diff != "" {
			t.Errorf("registered user (-want +got):\n%s", diff)
		}
		if !u.GetCreateTime().AsTime().Equal(e.clock.Now()) {
			t.Errorf("create_time = %v, want the service clock %v", u.GetCreateTime().AsTime(), e.clock.Now())
		}
		if page, token := e.link(t, "carol.jones@example.com", "Confirm your email"); page != "http://shop.test/verify-email" || len(token) != 43 {
			t.Errorf("verification link = %s?token=%s, want PublicURL/verify-email with a 32-byte token", page, token)
		}

		// Direct callers skip the API's validation; the service trims itself.
		if _, err := e.svc.Register(ctx, &userv1.RegisterRequest{Email: "  Dave@Example.org \t", Password: "juniper-canal-kite-4"}); err != nil {
			t.Fatalf("Register with spaces: %v", err)
		}
		if s := e.checkPassword(t, "dave@example.org", "juniper-canal-kite-4"); s.GetUserId() == "" {
			t.Errorf("Register with spaces: no account for dave@example.org")
		}

		tests := []struct {
			name, email, password string
			want                  connect.Code
			wantMsg, wantField    string
		}{
			{"breached", "erin@example.com", "Password1234", connect.CodeInvalidArgument, "this password appears in lists of breached passwords; choose another", ""},
			{"breached keyboard walk", "erin@example.com", "qwertyuiopas", connect.CodeInvalidArgument, "breached", ""},
			{"too short", "erin@example.com", "short", connect.CodeInvalidArgument, "", "password"},
			{"too long", "erin@example.com", strings.Repeat("ab", 65), connect.CodeInvalidArgument, "", "password"},
			{"contains the email's name", "erin.walsh@example.com", "Erin.Walsh-rocks-1", connect.CodeInvalidArgument, "password must not contain your email address", ""},
			{"one repeated character", "erin@example.com", "%%%%%%%%%%%%%%", connect.CodeInvalidArgument, "single character repeated", ""},
			{"not an email", "erin-at-example.com", "another-good-phrase-1", connect.CodeInvalidArgument, "", "email"},
		}
		for _, tt := range tests {
			_, err := e.anon.Register(ctx, &userv1.RegisterRequest{Email: tt.email, Password: tt.password})
			if code(err) != tt.want {
				t.Errorf("%s: code = %v (%v), want %v", tt.name, code(err), err, tt.want)
				continue
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s: message %q does not say %q", tt.name, err.Error(), tt.wantMsg)
			}
			if tt.wantField != "" && !slices.Contains(violationFields(err), tt.wantField) {
				t.Errorf("%s: violations on %v, want one on %q", tt.name, violationFields(err), tt.wantField)
			}
		}
		if n := e.messagesTo("erin@example.com") + e.messagesTo("erin.walsh@example.com"); n != 0 {
			t.Errorf("%d messages sent for refused registrations", n)
		}
	})
}

func TestRegisterRevealsNoAccount(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		before := e.messagesTo("alice@example.com") // her verification message
		fresh, err := e.anon.Register(ctx, &userv1.RegisterRequest{Email: "newcomer@example.com", Password: "a fresh long passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		// alice@example.com has an account: another spelling of it gets the
		// very same answer, not already_exists.
		taken, err := e.anon.Register(ctx, &userv1.RegisterRequest{Email: "ALICE@example.com", Password: "an attacker's passphrase"})
		if err != nil {
			t.Fatalf("Register of a taken email: %v, want the answer a new email gets", err)
		}
		if !proto.Equal(fresh, taken) {
			t.Errorf("answers differ: new email %v, taken email %v", fresh, taken)
		}
		// Nothing changed for alice, and she is told by email instead.
		if s := e.checkPassword(t, "alice@example.com", alicePassword); s.GetUserId() != e.ids["alice"] {
			t.Errorf("alice's own password after a sign-up with her email: subject %v", s)
		}
		if s := e.checkPassword(t, "alice@example.com", "an attacker's passphrase"); s != nil {
			t.Errorf("the sign-up's password opens alice's account: %v", s)
		}
		if page, token := e.link(t, "alice@example.com", "Reset your password"); page != "http://shop.test/reset-password" || token == "" {
			t.Errorf("alice's message: link %s?token=%s, want a password-reset link", page, token)
		}
		if n := e.messagesTo("alice@example.com") - before; n != 1 {
			t.Errorf("%d new messages to alice, want 1", n)
		}
	})
}

func address(name string) *userv1.Address {
	return &userv1.Address{Name: name, Line1: "1 Main Street", City: "Springfield", PostalCode: "12345", Country: "US"}
}

func (e *env) addresses(t *testing.T, c userv1connect.UserServiceClient) []*userv1.Address {
	t.Helper()
	res, err := c.ListAddresses(context.Background(), &userv1.ListAddressesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetAddresses()
}

// TestAddressesAreTheirOwnersOnly is the BOLA test: an address id of
// another account behaves exactly like one that does not exist.
func TestAddressesAreTheirOwnersOnly(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.bob.AddAddress(ctx, &userv1.AddAddressRequest{Address: address("Bob Home")}); err != nil {
			t.Fatal(err)
		}
		bobs := e.addresses(t, e.bob)
		bobID := bobs[0].GetId()
		// An admin sees them on the account (the admin panel's customer page).
		got, err := e.admin.GetUser(ctx, &userv1.GetUserRequest{Id: e.ids["bob"]})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(bobs, got.GetAddresses(), protocmp.Transform()); diff != "" {
			t.Errorf("GetUser's addresses for an admin (-ListAddresses +GetUser):\n%s", diff)
		}
		if got := e.addresses(t, e.alice); len(got) != 0 {
			t.Fatalf("alice lists %d addresses, want none of bob's", len(got))
		}
		unknown := "01900000-0000-7000-8000-000000000000"
		steal := address("Alice Takeover")
		steal.DefaultBilling = true
		for _, id := range []string{bobID, unknown} {
			steal.Id = id
			_, err := e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{Address: steal, UpdateMask: mask("name", "default_billing")})
			if code(err) != connect.CodeNotFound || err.Error() != fmt.Sprintf("not_found: address %q not found", id) {
				t.Errorf("alice updates address %s: %v, want not_found like any unknown id", id, err)
			}
			_, err = e.alice.DeleteAddress(ctx, &userv1.DeleteAddressRequest{Id: id})
			if code(err) != connect.CodeNotFound || err.Error() != fmt.Sprintf("not_found: address %q not found", id) {
				t.Errorf("alice deletes address %s: %v, want not_found like any unknown id", id, err)
			}
		}
		// Alice's own first address must not disturb bob's defaults either.
		if _, err := e.alice.AddAddress(ctx, &userv1.AddAddressRequest{Address: &userv1.Address{
			Id: bobID, Name: "Alice", Line1: "2 Side Road", City: "Shelbyville", Country: "US", DefaultShipping: true,
		}}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(bobs, e.addresses(t, e.bob), protocmp.Transform()); diff != "" {
			t.Errorf("bob's addresses changed by alice's attempts (-before +after):\n%s", diff)
		}
		if got := e.addresses(t, e.alice); len(got) != 1 || got[0].GetId() == bobID {
			t.Errorf("alice's address = %v: a client-chosen id must be ignored", got)
		}
		if _, err := e.bob.DeleteAddress(ctx, &userv1.DeleteAddressRequest{Id: bobID}); err != nil {
			t.Errorf("bob deletes his own address: %v", err)
		}
	})
}

func defaults(as []*userv1.Address) (shipping, billing []string) {
	for _, a := range as {
		if a.GetDefaultShipping() {
			shipping = append(shipping, a.GetName())
		}
		if a.GetDefaultBilling() {
			billing = append(billing, a.GetName())
		}
	}
	return shipping, billing
}

func TestDefaultAddressesAreExclusive(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		add := func(a *userv1.Address) *userv1.Address {
			t.Helper()
			res, err := e.alice.AddAddress(ctx, &userv1.AddAddressRequest{Address: a})
			if err != nil {
				t.Fatal(err)
			}
			return res.GetAddress()
		}
		home := add(address("Home"))
		work := address("Work")
		work.DefaultShipping = true
		work = add(work)
		cabin := add(address("Cabin"))

		// Every field is sent (the API validates whole addresses) but only
		// the masked one changes.
		upd := address("Cabin renamed")
		upd.Id, upd.DefaultBilling = cabin.GetId(), true
		res, err := e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{Address: upd, UpdateMask: mask("default_billing")})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetAddress().GetName() != "Cabin" || !res.GetAddress().GetDefaultBilling() {
			t.Errorf("masked update = %v, want only default_billing changed", res.GetAddress())
		}
		// A partial address is enough for a partial update.
		res, err = e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{
			Address: &userv1.Address{Id: cabin.GetId(), City: "Bergen"}, UpdateMask: mask("city")})
		if err != nil || res.GetAddress().GetCity() != "Bergen" || res.GetAddress().GetName() != "Cabin" {
			t.Errorf("partial update of city = %v, %v", res.GetAddress(), err)
		}
		// Clearing a required field through the mask is refused.
		if _, err := e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{
			Address: &userv1.Address{Id: cabin.GetId()}, UpdateMask: mask("line1")}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("clearing line1: %v, want invalid_argument", err)
		}
		// AddAddress still needs a complete address.
		if _, err := e.alice.AddAddress(ctx, &userv1.AddAddressRequest{Address: &userv1.Address{Name: "x", Country: "NO"}}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("adding an incomplete address: %v, want invalid_argument", err)
		}
		tests := []struct {
			step              string
			do                func()
			shipping, billing []string
		}{
			{"after the three adds and the update", func() {}, []string{"Work"}, []string{"Cabin"}},
			{"home back as default shipping", func() {
				h := address("Home")
				h.Id, h.DefaultShipping = home.GetId(), true
				if _, err := e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{Address: h, UpdateMask: mask("default_shipping")}); err != nil {
					t.Fatal(err)
				}
			}, []string{"Home"}, []string{"Cabin"}},
			{"cabin drops default billing", func() {
				c := address("Cabin")
				c.Id = cabin.GetId()
				if _, err := e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{Address: c, UpdateMask: mask("default_billing")}); err != nil {
					t.Fatal(err)
				}
			}, []string{"Home"}, nil},
			{"work deleted", func() {
				if _, err := e.alice.DeleteAddress(ctx, &userv1.DeleteAddressRequest{Id: work.GetId()}); err != nil {
					t.Fatal(err)
				}
			}, []string{"Home"}, nil},
		}
		for _, tt := range tests {
			tt.do()
			shipping, billing := defaults(e.addresses(t, e.alice))
			if diff := cmp.Diff(tt.shipping, shipping); diff != "" {
				t.Errorf("%s: default shipping (-want +got):\n%s", tt.step, diff)
			}
			if diff := cmp.Diff(tt.billing, billing); diff != "" {
				t.Errorf("%s: default billing (-want +got):\n%s", tt.step, diff)
			}
		}
		if !home.GetDefaultShipping() || !home.GetDefaultBilling() {
			t.Errorf("first address = %v, want it both defaults", home)
		}

		// Bad input is refused clearly; read-only paths are not maskable.
		h := address("Home")
		h.Id = home.GetId()
		if _, err := e.alice.UpdateAddress(ctx, &userv1.UpdateAddressRequest{Address: h, UpdateMask: mask("user_id")}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), `"user_id" cannot be updated`) {
			t.Errorf("update of user_id: %v, want invalid_argument", err)
		}
		bad := address("Lowercase")
		bad.Country = "us"
		if _, err := e.alice.AddAddress(ctx, &userv1.AddAddressRequest{Address: bad}); !slices.Contains(violationFields(err), "address.country") {
			t.Errorf("lower-case country: %v, want a violation on address.country", err)
		}

		// At most 50 addresses.
		for i := len(e.addresses(t, e.alice)); i < 50; i++ {
			add(address(fmt.Sprintf("Extra %d", i)))
		}
		if _, err := e.alice.AddAddress(ctx, &userv1.AddAddressRequest{Address: address("One too many")}); code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "at most 50") {
			t.Errorf("51st address: %v, want failed_precondition", err)
		}
	})
}

// TestUpdateMeRefusesMassAssignment: UpdateMe changes profile fields only.
func TestUpdateMeRefusesMassAssignment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		before := e.me(t, e.alice)
		evil := &userv1.User{
			Id: e.ids["bob"], Email: "boss@example.com", EmailVerified: true, DisplayName: "Mallory",
			Roles: []userv1.Role{userv1.Role_ROLE_ADMIN}, Status: userv1.UserStatus_USER_STATUS_ACTIVE,
		}
		for _, paths := range [][]string{
			{"roles"}, {"status"}, {"email"}, {"email_verified"}, {"id"}, {"create_time"},
			{"display_name", "roles"}, {"user.roles"}, {"*"},
		} {
			_, err := e.alice.UpdateMe(ctx, &userv1.UpdateMeRequest{User: evil, UpdateMask: mask(paths...)})
			bad := paths[len(paths)-1]
			if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), fmt.Sprintf("%q cannot be changed", bad)) {
				t.Errorf("UpdateMe mask %v: %v, want invalid_argument naming %q", paths, err, bad)
			}
		}
		if diff := cmp.Diff(before, e.me(t, e.alice), protocmp.Transform()); diff != "" {
			t.Errorf("refused updates changed the account (-before +after):\n%s", diff)
		}
		// The caller's token, not the body, says whose account changes.
		res, err := e.alice.UpdateMe(ctx, &userv1.UpdateMeRequest{
			User:       &userv1.User{Id: e.ids["bob"], DisplayName: " Alice A. ", Phone: "+1 555 0100", Locale: "en-GB", MarketingOptIn: true},
			UpdateMask: mask("display_name", "phone", "locale", "marketing_opt_in"),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := &userv1.User{
			Id: e.ids["alice"], Email: "alice@example.com", DisplayName: "Alice A.", Phone: "+1 555 0100", Locale: "en-GB", MarketingOptIn: true,
			Roles: []userv1.Role{userv1.Role_ROLE_CUSTOMER}, Status: userv1.UserStatus_USER_STATUS_ACTIVE,
			CreateTime: before.GetCreateTime(), UpdateTime: res.GetUser().GetUpdateTime(),
		}
		if diff := cmp.Diff(want, res.GetUser(), protocmp.Transform()); diff != "" {
			t.Errorf("UpdateMe (-want +got):\n%s", diff)
		}
		if bob := e.me(t, e.bob); bob.GetDisplayName() != "Bob" {
			t.Errorf("bob's display name = %q, changed by alice", bob.GetDisplayName())
		}
		for _, u := range []*userv1.User{{Locale: "not a locale!"}, {Phone: "call me maybe"}} {
			if _, err := e.alice.UpdateMe(ctx, &userv1.UpdateMeRequest{User: u, UpdateMask: mask("locale", "phone")}); code(err) != connect.CodeInvalidArgument {
				t.Errorf("UpdateMe(%v) = %v, want invalid_argument", u, err)
			}
		}
	})
}

// TestAccessRules is the BFLA test: admin RPCs refuse customers and staff,
// internal RPCs refuse every role but the service principal.
func TestAccessRules(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		type call func(c userv1connect.UserServiceClient) error
		admin := map[string]call{
			"ListUsers": func(c userv1connect.UserServiceClient) error {
				_, err := c.ListUsers(ctx, &userv1.ListUsersRequest{})
				return err
			},
			"GetUser": func(c userv1connect.UserServiceClient) error {
				_, err := c.GetUser(ctx, &userv1.GetUserRequest{Id: e.ids["bob"]})
				return err
			},
			"SetRoles": func(c userv1connect.UserServiceClient) error {
				_, err := c.SetRoles(ctx, &userv1.SetRolesRequest{Id: e.ids["alice"], Roles: []userv1.Role{userv1.Role_ROLE_CUSTOMER, userv1.Role_ROLE_ADMIN}})
				return err
			},
			"DisableUser": func(c userv1connect.UserServiceClient) error {
				_, err := c.DisableUser(ctx, &userv1.DisableUserRequest{Id: e.ids["bob"]})
				return err
			},
			"EnableUser": func(c userv1connect.UserServiceClient) error {
				_, err := c.EnableUser(ctx, &userv1.EnableUserRequest{Id: e.ids["bob"]})
				return err
			},
		}
		internal := map[string]call{
			"CheckPassword": func(c userv1connect.UserServiceClient) error {
				_, err := c.CheckPassword(ctx, &userv1.CheckPasswordRequest{Email: "alice@example.com", Password: alicePassword})
				return err
			},
			"GetSubject": func(c userv1connect.UserServiceClient) error {
				_, err := c.GetSubject(ctx, &userv1.GetSubjectRequest{UserId: e.ids["alice"]})
				return err
			},
			"LinkExternalIdentity": func(c userv1connect.UserServiceClient) error {
				_, err := c.LinkExternalIdentity(ctx, &userv1.LinkExternalIdentityRequest{
					Issuer: "https://idp.example.com", Subject: "alice", Email: "alice@example.com", EmailVerified: true,
				})
				return err
			},
		}
		callers := map[string]userv1connect.UserServiceClient{
			"anonymous": e.anon, "customer": e.alice, "staff": e.staff, "admin": e.admin, "service": e.service,
		}
		refused := []struct {
			rpcs   map[string]call
			caller string
			want   connect.Code
		}{
			{admin, "anonymous", connect.CodeUnauthenticated},
			{admin, "customer", connect.CodePermissionDenied},
			{admin, "staff", connect.CodePermissionDenied},
			{admin, "service", connect.CodePermissionDenied},
			{internal, "anonymous", connect.CodeUnauthenticated},
			{internal, "customer", connect.CodePermissionDenied},
			{internal, "staff", connect.CodePermissionDenied},
			{internal, "admin", connect.CodePermissionDenied},
		}
		for _, tt := range refused {
			for name, rpc := range tt.rpcs {
				if err := rpc(callers[tt.caller]); code(err) != tt.want {
					t.Errorf("%s as %s: %v, want %v", name, tt.caller, err, tt.want)
				}
			}
		}
		// The refused calls changed nothing: alice is no admin, bob is active.
		if roles := e.me(t, e.alice).GetRoles(); !slices.Equal(roles, []userv1.Role{userv1.Role_ROLE_CUSTOMER}) {
			t.Errorf("alice's roles after refused SetRoles = %v", roles)
		}
		if status := e.me(t, e.bob).GetStatus(); status != userv1.UserStatus_USER_STATUS_ACTIVE {
			t.Errorf("bob's status after refused DisableUser = %v", status)
		}
		// The right callers get through.
		for caller, rpcs := range map[string]map[string]call{"service": internal, "admin": admin} {
			for name, rpc := range rpcs {
				if err := rpc(callers[caller]); err != nil {
					t.Errorf("%s as %s: %v, want allowed", name, caller, err)
				}
			}
		}
		got, err := e.admin.GetUser(ctx, &userv1.GetUserRequest{Id: e.ids["alice"]})
		if err != nil || !slices.Equal(got.GetUser().GetRoles(), []userv1.Role{userv1.Role_ROLE_CUSTOMER, userv1.Role_ROLE_ADMIN}) {
			t.Errorf("alice after admin SetRoles = %v, %v", got, err)
		}
		// Staff reach the customer RPCs, for their own account only (there is
		// no user id to pass).
		if me := e.me(t, e.staff); me.GetId() != e.ids["staff"] || !slices.Equal(me.GetRoles(), []userv1.Role{userv1.Role_ROLE_STAFF}) {
			t.Errorf("staff GetMe = %v", me)
		}
	})
}

func TestAdminMethods(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.admin.GetUser(ctx, &userv1.GetUserRequest{Id: "no-such-user"}); code(err) != connect.CodeNotFound {
			t.Errorf("GetUser(unknown) = %v, want not_found", err)
		}
		if _, err := e.admin.SetRoles(ctx, &userv1.SetRolesRequest{Id: e.ids["admin"], Roles: []userv1.Role{userv1.Role_ROLE_STAFF}}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("admin removes own admin role: %v, want failed_precondition", err)
		}
		if _, err := e.admin.DisableUser(ctx, &userv1.DisableUserRequest{Id: e.ids["admin"]}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("admin disables self: %v, want failed_precondition", err)
		}
		if _, err := e.admin.SetRoles(ctx, &userv1.SetRolesRequest{Id: e.ids["bob"], Roles: []userv1.Role{userv1.Role(99)}}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("undefined role: %v, want invalid_argument", err)
		}
		res, err := e.admin.SetRoles(ctx, &userv1.SetRolesRequest{Id: e.ids["staff"], Roles: []userv1.Role{userv1.Role_ROLE_ADMIN, userv1.Role_ROLE_STAFF}})
		if err != nil || !slices.Equal(res.GetUser().GetRoles(), []userv1.Role{userv1.Role_ROLE_STAFF, userv1.Role_ROLE_ADMIN}) {
			t.Errorf("SetRoles staff+admin = %v, %v", res, err)
		}

		e.clock.Advance(time.Minute)
		first, err := e.admin.DisableUser(ctx, &userv1.DisableUserRequest{Id: e.ids["bob"]})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		second, err := e.admin.DisableUser(ctx, &userv1.DisableUserRequest{Id: e.ids["bob"]})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first.GetUser(), second.GetUser(), protocmp.Transform()); diff != "" || first.GetUser().GetStatus() != userv1.UserStatus_USER_STATUS_DISABLED {
			t.Errorf("DisableUser twice: status %v, second call changed (-first +second):\n%s", first.GetUser().GetStatus(), diff)
		}
		sub, err := e.service.GetSubject(ctx, &userv1.GetSubjectRequest{UserId: e.ids["bob"]})
		if err != nil {
			t.Fatal(err)
		}
		want := &userv1.Subject{
			UserId: e.ids["bob"], Roles: []userv1.Role{userv1.Role_ROLE_CUSTOMER},
			Status: userv1.UserStatus_USER_STATUS_DISABLED, SessionsNotBefore: first.GetUser().GetUpdateTime(),
		}
		if diff := cmp.Diff(want, sub.GetSubject(), protocmp.Transform()); diff != "" {
			t.Errorf("disabled subject (-want +got):\n%s", diff)
		}
		if _, err := e.bob.GetMe(ctx, &userv1.GetMeRequest{}); code(err) != connect.CodePermissionDenied {
			t.Errorf("disabled bob's GetMe with a still-valid token: %v, want permission_denied", err)
		}
		if _, err := e.service.GetSubject(ctx, &userv1.GetSubjectRequest{UserId: "no-such-user"}); code(err) != connect.CodeNotFound {
			t.Errorf("GetSubject(unknown) = %v, want not_found", err)
		}
		enabled, err := e.admin.EnableUser(ctx, &userv1.EnableUserRequest{Id: e.ids["bob"]})
		if err != nil || enabled.GetUser().GetStatus() != userv1.UserStatus_USER_STATUS_ACTIVE {
			t.Fatalf("EnableUser = %v, %v; want active", enabled, err)
		}
		if _, err := e.bob.GetMe(ctx, &userv1.GetMeRequest{}); err != nil {
			t.Errorf("re-enabled bob's GetMe: %v", err)
		}
	})
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.admin.DisableUser(ctx, &userv1.DisableUserRequest{Id: e.ids["bob"]}); err != nil {
			t.Fatal(err)
		}
		alice := &userv1.Subject{UserId: e.ids["alice"], Roles: []userv1.Role{userv1.Role_ROLE_CUSTOMER}, Status: userv1.UserStatus_USER_STATUS_ACTIVE}
		tests := []struct {
			name, email, password string
			want                  *userv1.Subject
		}{
			{"right password", "alice@example.com", alicePassword, alice},
			{"email in other case and spaces", "  ALICE@Example.com ", alicePassword, alice},
			{"wrong password", "alice@example.com", alicePassword + "x", nil},
			{"another account's password", "alice@example.com", bobPassword, nil},
			{"unknown email", "nobody@example.com", alicePassword, nil},
			{"disabled account, right password", "bob@example.com", bobPassword, nil},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(tt.want, e.checkPassword(t, tt.email, tt.password), protocmp.Transform()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
	})
}

func TestEmailVerificationLinks(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, token := e.link(t, "alice@example.com", "Confirm your email")
		if e.me(t, e.alice).GetEmailVerified() {
			t.Fatal("alice verified before using her link")
		}
		// Not a reset token, whatever the page.
		if _, err := e.anon.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: token, NewPassword: "marble-thistle-cloud-2"}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("verification token used for a reset: %v, want invalid_argument", err)
		}
		e.clock.Advance(23 * time.Hour)
		if _, err := e.anon.VerifyEmail(ctx, &userv1.VerifyEmailRequest{Token: token}); err != nil {
			t.Fatalf("VerifyEmail within 24 h: %v", err)
		}
		if !e.me(t, e.alice).GetEmailVerified() {
			t.Error("alice not verified after using her link")
		}
		if _, err := e.anon.VerifyEmail(ctx, &userv1.VerifyEmailRequest{Token: token}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "this link has expired or was already used") {
			t.Errorf("second use: %v, want invalid_argument", err)
		}
		if _, err := e.anon.VerifyEmail(ctx, &userv1.VerifyEmailRequest{Token: "made-up-token"}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("unknown token: %v, want invalid_argument", err)
		}

		// Bob asks again; the new link expires after 24 hours.
		before := e.messagesTo("bob@example.com")
		if _, err := e.bob.RequestEmailVerification(ctx, &userv1.RequestEmailVerificationRequest{}); err != nil {
			t.Fatal(err)
		}
		if n := e.messagesTo("bob@example.com"); n != before+1 {
			t.Fatalf("bob has %d messages, want %d", n, before+1)
		}
		_, bobToken := e.link(t, "bob@example.com", "Confirm your email")
		e.clock.Advance(24*time.Hour + time.Second)
		if _, err := e.anon.VerifyEmail(ctx, &userv1.VerifyEmailRequest{Token: bobToken}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "expired") {
			t.Errorf("expired link: %v, want invalid_argument", err)
		}
		if e.me(t, e.bob).GetEmailVerified() {
			t.Error("bob verified by an expired link")
		}
		// A verified account gets no new message.
		before = e.messagesTo("alice@example.com")
		if _, err := e.alice.RequestEmailVerification(ctx, &userv1.RequestEmailVerificationRequest{}); err != nil || e.messagesTo("alice@example.com") != before {
			t.Errorf("verification requested by a verified account: %v, %d new messages", err, e.messagesTo("alice@example.com")-before)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.admin.DisableUser(ctx, &userv1.DisableUserRequest{Id: e.ids["bob"]}); err != nil {
			t.Fatal(err)
		}
		// The same answer for an account, no account and a disabled one;
		// only the first gets a message.
		counts := map[string]int{}
		for _, email := range []string{"Alice@Example.com", "nobody@example.com", "bob@example.com"} {
			counts[email] = e.messagesTo(strings.ToLower(email))
			if _, err := e.anon.RequestPasswordReset(ctx, &userv1.RequestPasswordResetRequest{Email: email}); err != nil {
				t.Errorf("RequestPasswordReset(%s) = %v, want OK", email, err)
			}
		}
		for email, want := range map[string]int{"Alice@Example.com": 1, "nobody@example.com": 0, "bob@example.com": 0} {
			if got := e.messagesTo(strings.ToLower(email)) - counts[email]; got != want {
				t.Errorf("%s got %d reset messages, want %d", email, got, want)
			}
		}
		page, first := e.link(t, "alice@example.com", "Reset your password")
		if page != "http://shop.test/reset-password" {
			t.Errorf("reset link page = %s", page)
		}
		// A second request makes a second link; the reset spends both.
		if _, err := e.anon.RequestPasswordReset(ctx, &userv1.RequestPasswordResetRequest{Email: "alice@example.com"}); err != nil {
			t.Fatal(err)
		}
		_, second := e.link(t, "alice@example.com", "Reset your password")
		if second == first {
			t.Fatal("two reset requests gave the same token")
		}

		if _, err := e.anon.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: first, NewPassword: "iloveyou1234"}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "breached") {
			t.Errorf("reset to a breached password: %v, want invalid_argument", err)
		}
		e.clock.Advance(59 * time.Minute)
		const newPassword = "lilac-ferry-summit-66"
		if _, err := e.anon.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: first, NewPassword: newPassword}); err != nil {
			t.Fatalf("reset within the hour (the refused try kept the link): %v", err)
		}
		resetAt := e.clock.Now()
		for _, tok := range []string{first, second} {
			if _, err := e.anon.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: tok, NewPassword: "another-new-phrase-5"}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "already used") {
				t.Errorf("reset link used after a reset: %v, want invalid_argument", err)
			}
		}
		if s := e.checkPassword(t, "alice@example.com", alicePassword); s != nil {
			t.Error("the old password still works after a reset")
		}
		s := e.checkPassword(t, "alice@example.com", newPassword)
		if s == nil || !s.GetSessionsNotBefore().AsTime().Equal(resetAt) {
			t.Errorf("after reset: subject %v, want sessions_not_before = %v", s, resetAt)
		}
		if !e.me(t, e.alice).GetEmailVerified() {
			t.Error("a reset through the emailed link must mark the email verified")
		}

		// Reset links live one hour.
		if _, err := e.anon.RequestPasswordReset(ctx, &userv1.RequestPasswordResetRequest{Email: "alice@example.com"}); err != nil {
			t.Fatal(err)
		}
		_, late := e.link(t, "alice@example.com", "Reset your password")
		e.clock.Advance(time.Hour + time.Second)
		if _, err := e.anon.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: late, NewPassword: "another-new-phrase-5"}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "expired") {
			t.Errorf("expired reset link: %v, want invalid_argument", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		tests := []struct {
			name, current, next string
			want                connect.Code
			wantMsg             string
		}{
			{"wrong current password", "not-my-password", "walnut-river-crane-12", connect.CodePermissionDenied, "current password is wrong"},
			{"breached new password", alicePassword, "password1234", connect.CodeInvalidArgument, "breached"},
			{"new password contains the email", alicePassword, "ALICE-and-her-cat-9", connect.CodeInvalidArgument, "email address"},
		}
		for _, tt := range tests {
			_, err := e.alice.ChangePassword(ctx, &userv1.ChangePasswordRequest{CurrentPassword: tt.current, NewPassword: tt.next})
			if code(err) != tt.want || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s: %v, want %v saying %q", tt.name, err, tt.want, tt.wantMsg)
			}
		}
		e.clock.Advance(time.Hour)
		if _, err := e.alice.ChangePassword(ctx, &userv1.ChangePasswordRequest{CurrentPassword: alicePassword, NewPassword: "walnut-river-crane-12"}); err != nil {
			t.Fatal(err)
		}
		if s := e.checkPassword(t, "alice@example.com", alicePassword); s != nil {
			t.Error("old password works after a change")
		}
		s := e.checkPassword(t, "alice@example.com", "walnut-river-crane-12")
		if s == nil || !s.GetSessionsNotBefore().AsTime().Equal(e.clock.Now()) {
			t.Errorf("after change: subject %v, want sessions_not_before = %v", s, e.clock.Now())
		}
	})
}

func TestListUsersPagesAndFilters(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		base := e.clock.Now().Add(time.Hour)
		for i := range 45 {
			// Three accounts per instant: ties break on id.
			user.InsertUser(t, e.svc, fmt.Sprintf("shopper%03d@example.com", i), fmt.Sprintf("Shopper %03d", i), base.Add(time.Duration(i/3)*time.Second))
		}
		user.InsertUser(t, e.svc, "under_score@example.com", "Literal Underscore", base)
		user.InsertUser(t, e.svc, "underxscore@example.com", "Wildcard Bait", base)
		user.InsertUser(t, e.svc, "percent@example.com", "100% Cotton", base)

		list := func(query string, size int32) (ids, emails []string, pages []int) {
			t.Helper()
			token := ""
			for {
				res, err := e.admin.ListUsers(ctx, &userv1.ListUsersRequest{Query: query, PageSize: size, PageToken: token})
				if err != nil {
					t.Fatalf("ListUsers(%q): %v", query, err)
				}
				pages = append(pages, len(res.GetUsers()))
				for _, u := range res.GetUsers() {
					ids, emails = append(ids, u.GetId()), append(emails, u.GetEmail())
				}
				if token = res.GetNextPageToken(); token == "" {
					return ids, emails, pages
				}
			}
		}
		ids, emails, pages := list("", 0)
		if diff := cmp.Diff([]int{20, 20, 12}, pages); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("user %s listed twice", id)
			}
			seen[id] = true
		}
		if len(seen) != 52 {
			t.Errorf("listed %d distinct users, want 52", len(seen))
		}
		// Newest first: the last shoppers lead, the env's four accounts end.
		if emails[0] != "shopper044@example.com" && emails[0] != "shopper043@example.com" && emails[0] != "shopper042@example.com" {
			t.Errorf("first listed = %s, want one of the newest shoppers", emails[0])
		}
		if got := emails[len(emails)-4:]; !slices.Contains(got, "alice@example.com") || !slices.Contains(got, "admin@example.com") {
			t.Errorf("oldest listed = %v, want the env's accounts", got)
		}

		tests := []struct {
			query string
			want  int
		}{
			{"SHOPPER 01", 10},   // display name, any case
			{"shopper00", 10},    // email
			{"Shopper0", 45},     // email, any case
			{"under_", 1},        // _ is literal, not a wildcard
			{"100%", 1},          // % is literal
			{"%", 1},             //   … even alone
			{"!", 0},             // the escape character itself
			{"@EXAMPLE.COM", 52}, // everyone
			{"nobody", 0},
		}
		for _, tt := range tests {
			_, got, _ := list(tt.query, 3)
			if len(got) != tt.want {
				t.Errorf("query %q matched %d users %v, want %d", tt.query, len(got), got, tt.want)
			}
		}
		first, err := e.admin.ListUsers(ctx, &userv1.ListUsersRequest{PageSize: 2, Query: "shopper"})
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []*userv1.ListUsersRequest{
			{PageToken: first.GetNextPageToken(), Query: "other"},
			{PageToken: "not-a-token"},
		} {
			if _, err := e.admin.ListUsers(ctx, req); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "page_token") {
				t.Errorf("ListUsers(%v) = %v, want invalid_argument about page_token", req, err)
			}
		}
		if _, err := e.admin.ListUsers(ctx, &userv1.ListUsersRequest{PageSize: 101}); !slices.Contains(violationFields(err), "page_size") {
			t.Errorf("page_size 101: %v, want a violation on page_size", err)
		}
	})
}

func TestLinkExternalIdentity(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const issuer = "https://accounts.example.com"
		link := func(subject, email string, verified bool) (*userv1.LinkExternalIdentityResponse, error) {
			return e.service.LinkExternalIdentity(ctx, &userv1.LinkExternalIdentityRequest{
				Issuer: issuer, Subject: subject, Email: email, EmailVerified: verified, DisplayName: "Provider Name",
			})
		}
		created, err := link("sub-new", "New.Person@Example.com", true)
		if err != nil || !created.GetCreated() {
			t.Fatalf("first sign-in = %v, %v; want a created account", created, err)
		}
		newID := created.GetSubject().GetUserId()
		got, err := e.admin.GetUser(ctx, &userv1.GetUserRequest{Id: newID})
		if err != nil {
			t.Fatal(err)
		}
		if u := got.GetUser(); u.GetEmail() != "new.person@example.com" || !u.GetEmailVerified() || u.GetDisplayName() != "Provider Name" ||
			!slices.Equal(u.GetRoles(), []userv1.Role{userv1.Role_ROLE_CUSTOMER}) {
			t.Errorf("created account = %v", u)
		}
		// No password: no password can ever match it.
		for _, pw := range []string{"x", "new.person@example.com", alicePassword} {
			if s := e.checkPassword(t, "new.person@example.com", pw); s != nil {
				t.Errorf("CheckPassword(%q) on a password-less account = %v", pw, s)
			}
		}

		tests := []struct {
			name           string
			subject, email string
			verified       bool
			wantUser       string // "" for a new account
			wantCreated    bool
			wantCode       connect.Code
		}{
			{"same identity again, whatever the email now", "sub-new", "changed@example.com", false, newID, false, 0},
			{"verified email of an existing account links it", "sub-alice", "ALICE@example.com", true, e.ids["alice"], false, 0},
			{"linked identity is reused", "sub-alice", "alice@example.com", true, e.ids["alice"], false, 0},
			{"unverified email of an existing account is refused", "sub-bob", "bob@example.com", false, "", false, connect.CodeFailedPrecondition},
			{"unverified new email makes an unverified account", "sub-unverified", "fresh@example.com", false, "", true, 0},
			{"no email", "sub-anon", "", true, "", false, connect.CodeInvalidArgument},
		}
		for _, tt := range tests {
			res, err := link(tt.subject, tt.email, tt.verified)
			if tt.wantCode != 0 {
				if code(err) != tt.wantCode {
					t.Errorf("%s: %v, want %v", tt.name, err, tt.wantCode)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if res.GetCreated() != tt.wantCreated || (tt.wantUser != "" && res.GetSubject().GetUserId() != tt.wantUser) {
				t.Errorf("%s: user %s created %v, want user %s created %v", tt.name, res.GetSubject().GetUserId(), res.GetCreated(), tt.wantUser, tt.wantCreated)
			}
		}
		if !e.me(t, e.alice).GetEmailVerified() {
			t.Error("linking through a provider that verified alice's email should mark it verified")
		}
		fresh, err := e.admin.ListUsers(ctx, &userv1.ListUsersRequest{Query: "fresh@example.com"})
		if err != nil || len(fresh.GetUsers()) != 1 || fresh.GetUsers()[0].GetEmailVerified() {
			t.Errorf("account from an unverified email = %v, %v; want email_verified false", fresh, err)
		}
		// Bob's account got no identity: a second try is still refused.
		if _, err := link("sub-bob", "bob@example.com", false); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("second unverified link to bob: %v", err)
		}
	})
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	// An existing customer is promoted (and keeps their password).
	created, err := e.svc.EnsureAdmin(ctx, "Bob@Example.com", "ignored-for-existing-1")
	if err != nil || created {
		t.Fatalf("EnsureAdmin(bob) = %v, %v; want promoted, not created", created, err)
	}
	s := e.checkPassword(t, "bob@example.com", bobPassword)
	if s == nil || !slices.Equal(s.GetRoles(), []userv1.Role{userv1.Role_ROLE_CUSTOMER, userv1.Role_ROLE_ADMIN}) {
		t.Errorf("bob after EnsureAdmin = %v", s)
	}
	// Running it again changes nothing.
	if created, err := e.svc.EnsureAdmin(ctx, "admin@example.com", adminPassword); err != nil || created {
		t.Errorf("EnsureAdmin again = %v, %v", created, err)
	}
	if _, err := e.svc.EnsureAdmin(ctx, "new-admin@example.com", "password1234"); !strings.Contains(fmt.Sprint(err), "breached") {
		t.Errorf("EnsureAdmin with a breached password = %v", err)
	}
}

var code = testkit.Code

var violationFields = testkit.ViolationFields
