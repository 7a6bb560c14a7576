/**
 * The package root, `mailgate`: the Filter vocabulary (mail/): the Filter interface, defineFilter,
 * replies, changes, capabilities. The milter library is `mailgate/milter`, the manager `mailgate/chain`.
 */
export * from './mail/index.js';
