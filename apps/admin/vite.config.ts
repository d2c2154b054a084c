import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import vue from "@vitejs/plugin-vue";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// Where `npm run dev` sends API calls: a running `emporium dev` (or any edge).
const edge = process.env.EMPORIUM_URL ?? "http://localhost:8080";

// Everything the edge answers that is not the panel itself.
const edgePaths = ["^/emporium\\.", "^/audit/", "^/media/", "^/dev/", "^/\\.well-known/", "^/healthz$"];

// gzipTwins writes app.js.gz beside app.js (and so on for css, html, svg):
// the edge sends them to browsers that take gzip, with no work per request.
function gzipTwins(): Plugin {
  return {
    name: "emporium:gzip-twins",
    apply: "build",
    async writeBundle(options, bundle) {
      const dir = options.dir ?? "dist";
      const names = [...Object.keys(bundle), "index.html", "favicon.svg"];
      for (const name of new Set(names)) {
        if (!/\.(js|css|html|svg|json)$/.test(name)) continue;
        const body = await readFile(join(dir, name)).catch(() => undefined);
        if (body && body.length > 1024) await writeFile(join(dir, `${name}.gz`), gzipSync(body, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  // The edge serves the panel at /admin/ (--admin-dir).
  base: "/admin/",
  plugins: [vue(), gzipTwins()],
  resolve: {
    // @emporium/sdk is linked from ../../sdk-ts, which has its own
    // node_modules: one copy of each runtime keeps ConnectError checks and
    // the bundle honest.
    dedupe: ["@connectrpc/connect", "@connectrpc/connect-web", "@bufbuild/protobuf", "vue"],
  },
  server: {
    proxy: Object.fromEntries(edgePaths.map((p) => [p, { target: edge, changeOrigin: false }])),
  },
  build: {
    target: "es2022",
    sourcemap: false,
    // ECharts is the largest chunk (~1 MB raw), loaded by the dashboard only.
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        // Libraries change less often than the panel: their own chunks stay
        // cached across deploys.
        codeSplitting: {
          groups: [
            { name: "vue", test: /node_modules[\\/](@vue|vue|vue-router)[\\/]/ },
            { name: "api", test: /node_modules[\\/](@bufbuild|@connectrpc)[\\/]|sdk-ts[\\/]dist[\\/]/ },
            { name: "query", test: /node_modules[\\/]@tanstack[\\/]/ },
            { name: "charts", test: /node_modules[\\/](echarts|zrender|vue-echarts)[\\/]/ },
          ],
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.ts"],
    restoreMocks: true,
    testTimeout: 30_000,
  },
});
