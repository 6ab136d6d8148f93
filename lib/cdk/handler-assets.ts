import { fileURLToPath } from 'node:url';

/**
 * The Lambda handlers the package ships prebuilt: each entry is bundled at package build time
 * (`npm run build`) into `dist/assets/<name>/index.mjs`, and the constructs deploy exactly
 * those files, so a consumer's `cdk synth` needs no bundler and deploys what the tests ran.
 */
export const HANDLER_ASSETS = {
  /** The HTTP API handler (API Gateway proxy events). */
  api: { entry: 'lambdas/http/api.handler.ts' },
  /** The direct-invocation handler (`{ action, lockId, ... }`). */
  direct: { entry: 'lambdas/direct/invoke.handler.ts' },
  /** The cleanup of ended Step Functions executions (EventBridge events). */
  cleanup: { entry: 'lambdas/cleanup/cleanup.handler.ts' },
} as const;

export type HandlerAssetName = keyof typeof HANDLER_ASSETS;

/** The Lambda handler setting of every shipped bundle. */
export const ASSET_HANDLER = 'index.handler';

// lib/cdk/ in the repository and dist/cdk/ in the package are both two levels below the
// package root, so the same relative path reaches dist/assets from the sources and the build.
const ASSETS_ROOT = new URL('../../dist/assets/', import.meta.url);

/**
 * The folder holding a handler's prebuilt bundle (`index.mjs` and its source map).
 *
 * @example lambda.Code.fromAsset(handlerAssetPath('api'))
 */
export function handlerAssetPath(name: HandlerAssetName): string {
  return fileURLToPath(new URL(`${name}/`, ASSETS_ROOT));
}
