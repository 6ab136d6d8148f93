#!/usr/bin/env node
// lockctl's executable: compiled JavaScript, so a command starts without compiling anything.
// The SDK's Node 20 end-of-support notice would clutter every command's output; it is read
// when the SDK loads, hence the import after setting it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('./lockctl.js');
process.exitCode = await main(process.argv.slice(2));
