/** bench:filters — the spamd part (placeholder). */
export async function runSpamdBench(): Promise<void> {
  process.stdout.write('spamd: not written yet\n');
}
