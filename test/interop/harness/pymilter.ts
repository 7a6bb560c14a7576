// A minimal real libmilter filter written with pymilter (python3-milter).
// It adds `X-PyMilter: seen` at end of message and otherwise continues.
//
// Quirks: pymilter is installed for Debian's /usr/bin/python3 only (a pyenv
// python3 on PATH cannot import Milter). Milter.Base.setsymlist is broken on
// Python 3, so this filter requests no macros. pymilter negotiates away (NO*)
// every callback the class does not override, and miltertest raises an error
// when a script sends a step the filter negotiated away, hence two variants.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { startDaemon, LIBMILTER_STOP_GRACE_MS, type Daemon } from './process.js';
import { parseSpec, libmilterSpec, waitListening } from './endpoint.js';

export const PYMILTER_HEADER = { name: 'X-PyMilter', value: 'seen' } as const;

const FILTER_PY = `
import sys
import Milter

class EomOnly(Milter.Base):
    # Base's other callbacks carry @nocallback: pymilter asks the MTA to skip
    # them (SMFIP_NOCONNECT, NOHELO, ... NOBODY).
    def eom(self):
        self.addheader(${JSON.stringify(PYMILTER_HEADER.name)}, ${JSON.stringify(PYMILTER_HEADER.value)})
        return Milter.CONTINUE

class AllSteps(EomOnly):
    # Plain overrides: every step is negotiated and answered with CONTINUE.
    def connect(self, hostname, family, hostaddr): return Milter.CONTINUE
    def hello(self, hostname): return Milter.CONTINUE
    def envfrom(self, f, *args): return Milter.CONTINUE
    def envrcpt(self, to, *args): return Milter.CONTINUE
    def data(self): return Milter.CONTINUE
    def header(self, name, value): return Milter.CONTINUE
    def eoh(self): return Milter.CONTINUE
    def body(self, chunk): return Milter.CONTINUE
    def unknown(self, cmd): return Milter.CONTINUE

def main():
    spec, variant = sys.argv[1], sys.argv[2]
    Milter.factory = AllSteps if variant == "all" else EomOnly
    Milter.set_flags(Milter.ADDHDRS)
    print("pymilter: %s filter on %s" % (variant, spec), flush=True)
    # timeout: seconds the MTA should wait; rmsock: remove a stale unix socket
    Milter.runmilter("mailgate-pymilter", spec, timeout=60, rmsock=True)
    print("pymilter: stopped", flush=True)

if __name__ == "__main__":
    main()
`;

export interface PyMilter {
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

export interface PyMilterOptions {
  /** Socket; any spelling parseSpec accepts (rendered as unix:/path or inet:PORT@HOST). */
  spec: string;
  /** 'all' (default): every protocol step negotiated; 'eom-only': pymilter's NO* defaults. */
  steps?: 'all' | 'eom-only';
}

export async function startPyMilter(opts: PyMilterOptions): Promise<PyMilter> {
  const tmp = await makeTempDir('pymilter');
  const ep = parseSpec(opts.spec);
  const script = join(tmp.path, 'seen_milter.py');
  await writeFile(script, FILTER_PY);
  const daemon = startDaemon('pymilter', '/usr/bin/python3', ['-u', script, libmilterSpec(ep), opts.steps ?? 'all']);
  const stop = async (): Promise<void> => {
    await daemon.stop(LIBMILTER_STOP_GRACE_MS);
    await tmp.remove();
  };
  try {
    await waitListening(ep, 'pymilter', { daemon, timeoutMs: 15_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { daemon, stop };
}
