// Per-test scratch directories under os.tmpdir().
//
// mkdtemp creates 0700 directories; Postfix's daemons and smtp-sink run as the
// unprivileged `postfix` user and must traverse into them (to reach a milter's
// unix socket, to write dumps), so we open the directory up to 0755.
import { mkdtemp, chmod, rm, mkdir } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onEmergencyExit } from './process.js';

export interface TempDir {
  readonly path: string;
  /** Creates (recursively) and returns a sub-directory; mode as for the root. */
  sub(name: string, mode?: number): Promise<string>;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `mailgate-${prefix}-`));
  await chmod(path, 0o755);
  const unregister = onEmergencyExit(() => rmSync(path, { recursive: true, force: true }));
  return {
    path,
    async sub(name, mode = 0o755) {
      const dir = join(path, name);
      await mkdir(dir, { recursive: true });
      await chmod(dir, mode); // mkdir's mode is filtered by the umask; chmod is not
      return dir;
    },
    async remove() {
      unregister();
      await rm(path, { recursive: true, force: true });
    },
  };
}
