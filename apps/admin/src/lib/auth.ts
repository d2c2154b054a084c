// Who is signed in, and what their role lets the panel show. The server
// decides what each call may do; this only hides what the role may not.
import { Role, type User } from "@emporium/sdk";
import { computed, reactive } from "vue";
import { admin, authEvents, session, SIGNED_OUT } from "./admin";

/** A customer's account signed in: it has no place in the back office. */
export class NoBackOfficeAccess extends Error {
  constructor() {
    super("This account has no access to the back office.");
    this.name = "NoBackOfficeAccess";
  }
}

export const auth = reactive({
  /** The signed-in staff member, once loaded. */
  me: undefined as User | undefined,
  /** Set when the server ended the session (shown on the sign-in page). */
  endedReason: "",
});

export const isAdmin = computed(() => auth.me?.roles.includes(Role.ADMIN) ?? false);

function isStaff(user: User | undefined): boolean {
  return !!user && (user.roles.includes(Role.STAFF) || user.roles.includes(Role.ADMIN));
}

/** Signs in, then refuses (and signs out again) an account without a staff or admin role. */
export async function signIn(email: string, password: string): Promise<User> {
  await session.login(email, password);
  const { user } = await admin.users.getMe({});
  if (!isStaff(user)) {
    await session.logout().catch(() => undefined);
    auth.me = undefined;
    throw new NoBackOfficeAccess();
  }
  auth.me = user;
  auth.endedReason = "";
  return user!;
}

/**
 * Loads the signed-in staff member from stored tokens (after a reload).
 * Returns undefined when there is no session or it is not a staff one.
 */
export async function restore(): Promise<User | undefined> {
  if (auth.me) return auth.me;
  if (!(await session.tokens())) return undefined;
  try {
    const { user } = await admin.users.getMe({});
    if (!isStaff(user)) {
      await session.logout().catch(() => undefined);
      return undefined;
    }
    auth.me = user;
    return user;
  } catch {
    return undefined;
  }
}

export async function signOut(): Promise<void> {
  await session.logout().catch(() => undefined);
  auth.me = undefined;
}

authEvents.addEventListener(SIGNED_OUT, () => {
  auth.me = undefined;
  auth.endedReason = "Your session was ended. Sign in again.";
});
