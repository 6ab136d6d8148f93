// `npm run build`: the published package. tsc compiles lib/ to dist/ (JavaScript, .d.ts, source
// maps); esbuild bundles each shipped Lambda handler into dist/assets/<name>/, once, here, so
// that nobody who deploys the constructs needs a bundler, Docker or this repository's lockfile.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HANDLER_ASSETS, handlerAssetPath } from '../lib/cdk/handler-assets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * ESM bundles cannot `require`; some CommonJS dependencies still do, so the bundle defines it
 * (the banner esbuild's docs recommend for `format: esm` on Node).
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __lockServiceCreateRequire } from 'node:module';" +
  'const require = __lockServiceCreateRequire(import.meta.url);';

rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
chmodSync(join(ROOT, 'dist/cli/main.js'), 0o755);

for (const [name, { entry }] of Object.entries(HANDLER_ASSETS)) {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile: join(handlerAssetPath(name as keyof typeof HANDLER_ASSETS), 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    // Minified but with class and function names: Step Functions' Retry/Catch and the HTTP
    // edge tell errors apart by name, and stack traces stay readable.
    keepNames: true,
    sourcemap: true,
    // Stack traces need the mappings, not a second copy of every dependency's source.
    sourcesContent: false,
    // The SDK versions the tests ran against are shipped, rather than the runtime's copy.
    external: [],
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
}
