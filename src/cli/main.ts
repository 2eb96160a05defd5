#!/usr/bin/env node
// The `lossc` command line. Exit status: 0 success, 1 a user error (bad source, unknown name,
// bad shapes ...), 2 misuse of the command itself (unknown command or flag).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LosscError, LosscErrors, didYouMean, registerSource } from '../errors.js';
import { commands, type Command } from './commands.js';
import { UsageError } from './usage.js';

const USAGE = `usage: lossc <command> [arguments]

commands:
  check FILE... | -            parse and check .loss files (- reads standard input)
  show NAME [--file F]         a definition's documentation, signature, options and formula
  list [--file F] [--builtins] the losses, regularizers and helpers (stdlib and FILE)
  grad NAME --wrt INPUT        the derivative of a loss, simplified and printed
       [--file F] [--option k=v ...] [--format text|latex|dot] [--raw] [--explain]
  export NAME --to TARGET      a loss as a Python module (pytorch, numpy, jax, keras)
       [--out FILE.py] [--file F] [--option k=v ...] [--with-gradient]
  eval [--backend cpu|wasm]    evaluate requests given as JSON lines on standard input
  plot LOSS... --over INPUT    losses or derivatives along one input, as SVG or Vega-Lite
       [--sweep k=v,...] [--derivative] [--option k=v ...] [-o FILE]
  playground [--port N]        serve the playground page on 127.0.0.1 (npm run site builds it)
  demo                         train a small model with a lossc loss and print what happened

run 'lossc <command> --help' for a command's details.`;

export async function main(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    out('lossc 0.1.0');
    return 0;
  }
  const cmd: Command | undefined = commands[name];
  if (!cmd) {
    err(`lossc: unknown command \`${name}\`${didYouMean(name, Object.keys(commands))}\n\n${USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: cmd.flags, allowPositionals: true, strict: true });
  } catch (e) {
    err(`lossc ${name}: ${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}\n\n${cmd.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    out(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(parsed.values as Record<string, unknown>, parsed.positionals, { out, err, readFile });
  } catch (e) {
    if (e instanceof UsageError) {
      err(`lossc ${name}: ${e.message}\n\n${cmd.usage}`);
      return 2;
    }
    if (e instanceof LosscErrors) {
      err(e.errors.map((x) => x.message).join('\n\n'));
      return 1;
    }
    if (e instanceof LosscError) {
      err(e.message);
      return e.kind === 'usage' ? 2 : 1;
    }
    err(`lossc ${name}: internal error: ${(e as Error)?.message ?? String(e)} (please report this)`);
    return 1;
  }
}

function readFile(path: string): string {
  if (path === '-') {
    const text = readFileSync(0, 'utf8');
    registerSource('<stdin>', text);
    return text;
  }
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new LosscError('import', `cannot read file \`${path}\``);
  }
}

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:main\.(?:js|ts)|lossc)$/.test(invoked)) {
  void main(process.argv.slice(2), (s) => process.stdout.write(s + '\n'), (s) => process.stderr.write(s + '\n')).then(
    (code) => {
      process.exitCode = code;
    },
  );
}
