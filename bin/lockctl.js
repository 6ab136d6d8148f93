#!/usr/bin/env node
// lockctl's entry: tsx loads the TypeScript sources, so the CLI and the library are one code base.
import { register } from 'tsx/esm/api';

// The SDK's Node 20 end-of-support notice would clutter every command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/lockctl.ts');
process.exitCode = await main(process.argv.slice(2));
