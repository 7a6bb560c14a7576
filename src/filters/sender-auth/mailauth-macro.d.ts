// mailauth's SPF macro expander (lib/spf/macro.js, CommonJS) has no type declarations: its shape, as
// documented in that file.
declare module 'mailauth/lib/spf/macro.js' {
  const macro: (input: string, values: { sender: string; ip: string; helo: string; mta?: string }) => string;
  export = macro;
}
