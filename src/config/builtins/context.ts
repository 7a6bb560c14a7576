/** What a built-in filter's option reader gets besides its table. */
export interface BuiltinReadContext {
  /** Directory relative paths in the file are resolved against (the config file's). */
  readonly baseDir: string;
}
