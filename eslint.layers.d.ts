/** Types of eslint.layers.js (plain JS so that eslint.config.js can load it), for the tests that use it. */
import type { ESLint } from 'eslint';

export declare const LAYERS: { readonly [folder: string]: number };
export declare const SERVICES: readonly string[];
export declare function layerOf(srcDir: string, file: string): string | undefined;
export declare function layerViolation(srcDir: string, from: string, to: string): string | undefined;
export declare const layersPlugin: ESLint.Plugin;
export declare const PUBLIC_INDEXES: readonly string[];
export declare const PACKAGE_NAME: string;
export declare const SOURCE_EXTENSION: string;
export declare function specifierViolation(srcDir: string, from: string, specifier: string): string | undefined;
export declare function fileViolation(srcDir: string, file: string): string | undefined;
