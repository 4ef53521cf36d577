export default async function teardown() {
  globalThis.__TRIAD_TEST_REDIS__?.kill('SIGTERM');
}
