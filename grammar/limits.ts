// Limits of the grammar that code outside it needs without loading the parser (grammar/load.ts).

/** Largest source accepted, in bytes (UTF-8). */
export const MAX_SOURCE_BYTES = 1024 * 1024;
