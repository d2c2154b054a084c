// The app's building blocks. Every control has an accessibility label and
// at least a 44 pt touch target; text scales with the system's font size
// (no fixed heights on anything that holds text).
import { describeError, formatMoney, type ErrorOverrides, type MoneyLike } from "@emporium/sdk";
import { useRouter } from "expo-router";
import type { ReactNode } from "react";
import {
  ActivityIndicator,
  Pressable,
  StyleSheet,
  Text,
  TextInput,
  View,
  type TextInputProps,
  type StyleProp,
  type ViewStyle,
} from "react-native";
import { colors, space, TOUCH } from "./theme";

export function Button({
  label,
  onPress,
  kind = "primary",
  disabled,
  busy,
  accessibilityLabel,
  style,
}: {
  label: string;
  onPress: () => void;
  kind?: "primary" | "secondary" | "link";
  disabled?: boolean;
  busy?: boolean;
  accessibilityLabel?: string;
  style?: StyleProp<ViewStyle>;
}) {
  const off = disabled || busy;
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={accessibilityLabel ?? label}
      accessibilityState={{ disabled: !!off, busy: !!busy }}
      disabled={off}
      onPress={onPress}
      hitSlop={kind === "link" ? 8 : 0}
      style={({ pressed }) => [
        styles.button,
        kind === "primary" && styles.primary,
        kind === "secondary" && styles.secondary,
        kind === "link" && styles.link,
        off && styles.disabled,
        pressed && styles.pressed,
        style,
      ]}
    >
      <Text style={[styles.buttonText, kind === "primary" ? styles.primaryText : styles.secondaryText]}>{label}</Text>
    </Pressable>
  );
}

export function TextField({
  label,
  error,
  hint,
  ...input
}: TextInputProps & { label: string; error?: string; hint?: string }) {
  return (
    <View style={styles.field}>
      <Text style={styles.label}>{label}</Text>
      <TextInput
        accessibilityLabel={label}
        accessibilityHint={hint}
        placeholderTextColor={colors.muted}
        style={[styles.input, error ? styles.inputError : null]}
        {...input}
      />
      {hint && !error ? <Text style={styles.hint}>{hint}</Text> : null}
      {error ? (
        <Text style={styles.fieldError} accessibilityRole="alert">
          {error}
        </Text>
      ) : null}
    </View>
  );
}

export function Heading({ children, level = 1 }: { children: ReactNode; level?: 1 | 2 }) {
  return (
    <Text accessibilityRole="header" aria-level={level} style={level === 1 ? styles.h1 : styles.h2}>
      {children}
    </Text>
  );
}

export function Muted({ children }: { children: ReactNode }) {
  return <Text style={styles.muted}>{children}</Text>;
}

export function Price({ money }: { money: MoneyLike | undefined }) {
  return <Text style={styles.price}>{formatMoney(money)}</Text>;
}

export function Loading({ label }: { label: string }) {
  return (
    <View style={styles.loading} accessibilityRole="progressbar" accessibilityLabel={label}>
      <ActivityIndicator color={colors.primary} />
      <Text style={styles.muted}>{label}</Text>
    </View>
  );
}

export function Notice({ tone, children }: { tone: "error" | "info" | "warning" | "ok"; children: ReactNode }) {
  return (
    <View
      accessibilityLiveRegion={tone === "error" ? "assertive" : "polite"}
      style={[styles.notice, tone === "error" && styles.noticeError, tone === "info" && styles.noticeInfo, tone === "warning" && styles.noticeWarning]}
    >
      {children}
    </View>
  );
}

/** A failed call, worded by describeError, with Retry when retrying can help and Sign in when the session ended. */
export function ErrorNotice({
  error,
  onRetry,
  overrides,
  retryLabel = "Try again",
}: {
  error: unknown;
  onRetry?: () => void;
  overrides?: ErrorOverrides;
  retryLabel?: string;
}) {
  const router = useRouter();
  const e = describeError(error, overrides);
  return (
    <Notice tone="error">
      <Text style={styles.noticeText} accessibilityRole="alert" accessibilityLiveRegion="assertive">
        {e.message}
      </Text>
      <View style={styles.row}>
        {onRetry && e.retryable ? <Button kind="secondary" label={retryLabel} onPress={onRetry} /> : null}
        {e.signInAgain ? <Button kind="secondary" label="Sign in" onPress={() => router.push("/sign-in")} /> : null}
      </View>
    </Notice>
  );
}

/** Shown over cached catalog pages when the shop cannot be reached. */
export function OfflineBanner({ savedAt, onRetry }: { savedAt: number; onRetry: () => void }) {
  const when = savedAt ? new Date(savedAt).toLocaleString() : "earlier";
  return (
    <Notice tone="warning">
      <Text style={styles.noticeText}>You're offline. These are the results saved on this device ({when}).</Text>
      <Button kind="secondary" label="Try again" onPress={onRetry} />
    </Notice>
  );
}

export const styles = StyleSheet.create({
  button: {
    minHeight: TOUCH,
    minWidth: TOUCH,
    paddingHorizontal: space.l,
    paddingVertical: space.s,
    borderRadius: 8,
    alignItems: "center",
    justifyContent: "center",
  },
  primary: { backgroundColor: colors.primary },
  secondary: { backgroundColor: colors.background, borderWidth: 1, borderColor: colors.primary },
  link: { paddingHorizontal: space.s },
  disabled: { opacity: 0.5 },
  pressed: { opacity: 0.8 },
  buttonText: { fontSize: 16, fontWeight: "600", textAlign: "center" },
  primaryText: { color: colors.onPrimary },
  secondaryText: { color: colors.primary },
  field: { marginBottom: space.m },
  label: { fontSize: 15, fontWeight: "600", color: colors.text, marginBottom: space.xs },
  input: {
    minHeight: TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 8,
    paddingHorizontal: space.m,
    paddingVertical: space.s,
    fontSize: 16,
    color: colors.text,
    backgroundColor: colors.background,
  },
  inputError: { borderColor: colors.error },
  hint: { color: colors.muted, fontSize: 13, marginTop: space.xs },
  fieldError: { color: colors.error, fontSize: 14, marginTop: space.xs },
  h1: { fontSize: 24, fontWeight: "700", color: colors.text, marginBottom: space.m },
  h2: { fontSize: 19, fontWeight: "700", color: colors.text, marginTop: space.l, marginBottom: space.s },
  muted: { color: colors.muted, fontSize: 15 },
  price: { fontSize: 16, fontWeight: "600", color: colors.text },
  loading: { padding: space.xl, alignItems: "center", gap: space.s },
  notice: { borderRadius: 8, padding: space.m, marginVertical: space.s, gap: space.s, backgroundColor: colors.surface },
  noticeError: { backgroundColor: colors.errorSurface },
  noticeInfo: { backgroundColor: colors.infoSurface },
  noticeWarning: { backgroundColor: colors.warningSurface },
  noticeText: { fontSize: 15, color: colors.text },
  row: { flexDirection: "row", gap: space.s, flexWrap: "wrap", alignItems: "center" },
  screen: { padding: space.l, paddingBottom: space.xl * 2 },
});
