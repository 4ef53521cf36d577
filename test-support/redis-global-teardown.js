export default async function teardown() {
  await globalThis.__TRIAD_TEST_REDIS__?.stop();
}
