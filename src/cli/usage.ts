// A misuse of the command itself (a missing argument, a bad flag value): main.ts prints it with the
// command's usage and exits 2. Its own module so that commands.ts and main.ts need not import each other.
export class UsageError extends Error {}
