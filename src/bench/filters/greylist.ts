/** bench:filters — the greylist part (placeholder). */
export async function runGreylistBench(): Promise<void> {
  process.stdout.write('greylist: not written yet\n');
}
