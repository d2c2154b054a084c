import { describe, expect, it } from "vitest";
import { eventually, mountWith } from "../test/mount";
import { fakeEdge, fakeJwt } from "../test/fakeEdge";
import SignIn from "./SignIn.vue";

const tokens = () => ({ tokens: { accessToken: fakeJwt(), refreshToken: "r1", expiresIn: 900 } });

async function signInAs(roles: string[]) {
  const calls = fakeEdge({
    "AuthService/Login": () => tokens(),
    "UserService/GetMe": () => ({ user: { id: "u1", email: "x@example.com", roles } }),
    "AuthService/Logout": () => ({}),
  });
  const { wrapper, router } = await mountWith(SignIn, {}, "/sign-in?next=/orders");
  await wrapper.find("#email").setValue("x@example.com");
  await wrapper.find("#password").setValue("a long passphrase");
  await wrapper.find("form").trigger("submit");
  return { calls, wrapper, router };
}

describe("SignIn", () => {
  it("keeps a customer out with a clear message, and signs the session out again", async () => {
    const { calls, wrapper, router } = await signInAs(["ROLE_CUSTOMER"]);
    await eventually(() => expect(wrapper.find('[data-testid="sign-in-error"]').text()).toBe("This account has no access to the back office."));
    expect(calls.map((c) => c.method)).toEqual(["AuthService/Login", "UserService/GetMe", "AuthService/Logout"]);
    expect(router.currentRoute.value.path).toBe("/sign-in");
    expect(localStorage.getItem("emporium.admin.session")).toBeNull();
  });

  it("lets staff in and goes where they were headed", async () => {
    const { calls, router } = await signInAs(["ROLE_CUSTOMER", "ROLE_STAFF"]);
    await eventually(() => expect(router.currentRoute.value.path).toBe("/orders"));
    expect(calls[0]!.body).toEqual({ email: "x@example.com", password: "a long passphrase" });
  });

  it("words a wrong password", async () => {
    fakeEdge({ "AuthService/Login": () => ({ error: { code: "unauthenticated", message: "invalid credentials" } }) });
    const { wrapper } = await mountWith(SignIn, {}, "/sign-in");
    await wrapper.find("#email").setValue("x@example.com");
    await wrapper.find("#password").setValue("nope nope nope");
    await wrapper.find("form").trigger("submit");
    await eventually(() => expect(wrapper.find('[data-testid="sign-in-error"]').text()).toBe("Wrong email or password."));
  });
});
