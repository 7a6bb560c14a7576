export * from './mail/index.js';
export * as milter from './milter/index.js';
