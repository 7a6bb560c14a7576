/** Octal socket modes as written in configuration ("0660"). */
export class SocketModeError extends Error {
  override readonly name = 'SocketModeError';
}

export function parseMode(mode: string | number | undefined): number {
  if (mode === undefined) return 0o660;
  if (typeof mode === 'number') return mode;
  if (!/^0?[0-7]{3,4}$/.test(mode)) throw new SocketModeError(`unix_socket_mode "${mode}" is not an octal mode like 0660`);
  return parseInt(mode, 8);
}
