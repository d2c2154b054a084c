// Jest with Expo's preset (React Native's environment, babel-preset-expo).
// The SDK (sdk-ts, ESM) and its protobuf/Connect dependencies are compiled
// like the app's own code.
module.exports = {
  preset: "jest-expo",
  roots: ["<rootDir>/src"],
  testTimeout: 30_000,
  testMatch: ["<rootDir>/src/tests/**/*.test.ts?(x)"],
  // Code compiled from ../../sdk-ts finds babel's runtime helpers here.
  modulePaths: ["<rootDir>/node_modules"],
  setupFiles: ["<rootDir>/src/test/setup.ts"],
  transformIgnorePatterns: [
    "node_modules/(?!((jest-)?react-native|@react-native(-community)?|expo(nent)?|@expo(nent)?/.*|expo-.*|@expo-google-fonts/.*|react-navigation|@react-navigation/.*|@bufbuild/.*|@connectrpc/.*|@tanstack/.*|standard-navigation))",
  ],
};
