export default async function globalTeardown() {
  await globalThis.__packageSession?.close();
}
