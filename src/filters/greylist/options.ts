/**
 * greylist.conf as a filter option, parsed: apart from the filter so that a configuration can be checked
 * (show-config, chain construction before the filter's module is loaded) without loading the store drivers.
 */
import type { GreylistOptions } from '../../config/builtins/greylist.js';
import type { GreylistConf } from './conf/ast.js';
import { parseGreylistConf } from './conf/parser.js';

/** The greylist.conf of `options`, parsed; a GreylistConfError (a ConfigError) names its line, column and token. */
export function parseGreylistOptions(options: GreylistOptions): GreylistConf {
  return parseGreylistConf(options.conf.text, {
    file: options.conf.file,
    lineOffset: options.conf.lineOffset,
    ...(options.conf.key !== undefined ? { key: options.conf.key } : {}),
  });
}
