/** Connection specs are parsed in config/ (the bottom layer); re-exported here for the milter API. */
export * from '../config/connection-spec.js';
