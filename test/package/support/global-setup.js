// Plain JS because jest loads global setup outside its ESM transform; tsx loads the TypeScript.
import { tsImport } from 'tsx/esm/api';

/** Packs the tarball once and starts one DynamoDB Local; workers find both through the env. */
export default async function globalSetup() {
  // The SDK's Node 20 end-of-support notice (from the setup's own readiness probe) is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { openSession } = await tsImport('./session.ts', import.meta.url);
  globalThis.__packageSession = await openSession();
}
