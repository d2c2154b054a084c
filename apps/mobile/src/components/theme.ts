export const colors = {
  text: "#1d2327",
  muted: "#5b6770",
  border: "#d5dbe0",
  background: "#ffffff",
  surface: "#f4f6f8",
  primary: "#1f4e5f",
  onPrimary: "#ffffff",
  error: "#a4161a",
  errorSurface: "#fdecec",
  info: "#0b5394",
  infoSurface: "#e8f1fb",
  warning: "#7a4b00",
  warningSurface: "#fff4dc",
  ok: "#1e6b33",
  mark: "#ffe58a",
};

/** The smallest touch target (Apple's and Android's guidelines: 44 pt / 48 dp). */
export const TOUCH = 44;
export const space = { xs: 4, s: 8, m: 12, l: 16, xl: 24 };
