// The in-memory reference store against the shared contract suite.
import { MemoryMailboxStore } from '../../../src/store/mailbox/memory.js';
import { mailboxStoreContract } from './contract.js';

mailboxStoreContract('memory', (options) => Promise.resolve({ store: new MemoryMailboxStore(options), cleanup: () => Promise.resolve() }));
