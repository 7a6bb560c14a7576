/** bench:filters — the clamd part (placeholder). */
export async function runClamdBench(): Promise<void> {
  process.stdout.write('clamd: not written yet\n');
}
