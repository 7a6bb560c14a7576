// miltertest (the opendkim project's Lua-scripted MTA simulator).
//
// Quirks (Debian 12, miltertest 2.11.0~beta2):
// - A Lua error makes miltertest exit 1 WITHOUT printing the message. We wrap
//   the script in xpcall and write the error + traceback to stderr ourselves.
// - Each mt.* step raises (not returns) an error when the filter negotiated
//   that step away (e.g. "mt.helo(): negotiated SMFIP_NOHELO"); I/O failures
//   are returned as strings; mt.eom_check returns a boolean.
// - If the filter closes the socket, miltertest may die of SIGPIPE (exit 141).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { runCommand, type CommandResult } from './process.js';

// Helpers available to every script (defined as globals before it runs):
//   check(what, err)                 -- err must be nil
//   expect_reply(conn, what, want)   -- mt.getreply(conn) must equal want
//   step(conn, what, err[, want])    -- both, want defaults to SMFIR_CONTINUE
//   reply_name(code)                 -- "c", "a", "r", ... for messages
const PRELUDE = `
function reply_name(r)
  if type(r) == "number" and r > 0 and r < 256 then return string.format("'%s' (%d)", string.char(r), r) end
  return tostring(r)
end
function check(what, err)
  if err ~= nil then error(what .. " failed: " .. tostring(err), 2) end
end
function expect_reply(conn, what, want)
  local got = mt.getreply(conn)
  if got ~= want then
    error(what .. ": reply " .. reply_name(got) .. ", expected " .. reply_name(want), 2)
  end
end
function step(conn, what, err, want)
  if err ~= nil then error(what .. " failed: " .. tostring(err), 2) end
  local got = mt.getreply(conn)
  want = want or SMFIR_CONTINUE
  if got ~= want then
    error(what .. ": reply " .. reply_name(got) .. ", expected " .. reply_name(want), 2)
  end
end
`;

export function wrapScript(script: string): string {
  // The user's script comes first so its line N is line N+1 in tracebacks.
  return (
    `local function __mailgate_main()\n${script}\nend\n${PRELUDE}\n` +
    `local ok, err = xpcall(__mailgate_main, debug.traceback)\n` +
    `io.stdout:flush()\n` +
    `if not ok then io.stderr:write("miltertest script failed: " .. tostring(err) .. "\\n"); io.stderr:flush(); os.exit(1) end\n`
  );
}

export interface MiltertestOptions {
  /** -v count (-v logs every packet sent and the reply code). Default 1. */
  verbose?: number;
  timeoutMs?: number;
}

/** Runs a Lua script; `defines` become Lua string globals via -D name=value. */
export async function runMiltertest(
  script: string,
  defines: Record<string, string> = {},
  opts: MiltertestOptions = {},
): Promise<CommandResult> {
  const tmp = await makeTempDir('miltertest');
  try {
    const file = join(tmp.path, 'script.lua');
    await writeFile(file, wrapScript(script));
    const args: string[] = [];
    for (let i = 0; i < (opts.verbose ?? 1); i++) args.push('-v');
    for (const [k, v] of Object.entries(defines)) args.push('-D', `${k}=${v}`);
    args.push('-s', file);
    return await runCommand('/usr/bin/miltertest', args, { timeoutMs: opts.timeoutMs ?? 45_000 });
  } finally {
    await tmp.remove();
  }
}

/** A Lua string literal for embedding test data in scripts. */
export function luaString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\0/g, '\\0')}"`;
}
