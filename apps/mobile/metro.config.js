// Metro, Expo's bundler, with the repository's SDK (sdk-ts, linked by npm as
// "@emporium/sdk": "file:../../sdk-ts") inside what it watches and resolves.
const path = require("node:path");
const { getDefaultConfig } = require("expo/metro-config");

const config = getDefaultConfig(__dirname);
const sdk = path.resolve(__dirname, "../../sdk-ts");
config.watchFolders = [...(config.watchFolders ?? []), sdk];
// The SDK's own dependencies (@bufbuild/protobuf, @connectrpc/connect) are
// found next to it; this app's copies come first so there is one React.
config.resolver.nodeModulesPaths = [path.resolve(__dirname, "node_modules"), path.join(sdk, "node_modules")];
module.exports = config;
