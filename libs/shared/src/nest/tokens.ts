/** Nest injection tokens of the shared plumbing. */
export const TRIAD_CONFIG = Symbol('TRIAD_CONFIG');
export const RUN_REDIS = Symbol('RUN_REDIS');
export const REASONING_MODEL = Symbol('REASONING_MODEL');
/** The run archive (RunArchive), or null when TRIAD_ARCHIVE_URL is not set. */
export const RUN_ARCHIVE = Symbol('RUN_ARCHIVE');
/** The tenants' long-term semantic memory (SemanticMemory), shared by every replica. */
export const SEMANTIC_MEMORY = Symbol('SEMANTIC_MEMORY');
