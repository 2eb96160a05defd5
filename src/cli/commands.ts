// The subcommands of `lossc`, one entry each: its flags, its usage text and what it does.

import { writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { Definition } from '../../grammar/ast.js';
import { parseExpression } from '../../grammar/load.js';
import { derivative, explain } from '../pipeline/derivative.js';
import { LosscError, registerSource } from '../errors.js';
import { BUILTINS, showStatic, type Static } from '../lower/builtins.js';
import { Library } from '../lower/library.js';
import { folderHost } from '../node/files.js';
import { installGrammar } from '../node/grammar.js';
import { evalStatic, lowerDefinition } from '../lower/lower.js';
import { displaySignature } from '../lower/signature.js';
import { showShape } from '../ir/shape.js';
import { printBody } from '../print/text.js';
import { toLatex } from '../print/latex.js';
import { UsageError } from './usage.js';
import { runEval } from './eval.js';
import { useBackend } from '../backend.js';
import { checkProgram } from '../lower/check.js';
import { PLOT_FLAGS, PLOT_USAGE, runPlot } from './plot.js';
import { exportFromLibrary } from '../export/index.js';

installGrammar(); // the parser, loaded on the first parse (`lossc eval` of stdlib losses needs none)

export interface Io {
  out(s: string): void;
  err(s: string): void;
  readFile(path: string): string;
}

export interface Command {
  flags: NonNullable<ParseArgsConfig['options']>;
  usage: string;
  run(flags: Record<string, unknown>, args: string[], io: Io): Promise<number> | number;
}

const help = { help: { type: 'boolean', short: 'h' } } as const;

/** The library for a command: the stdlib, plus FILE's definitions when --file is given. */
function libraryFor(flags: Record<string, unknown>, io: Io): Library {
  const file = flags.file as string | undefined;
  if (!file) return Library.stdlib();
  return libraryOfFile(file, io, flags.root as string | undefined);
}

/** FILE's library (`-`: standard input); imports resolve in FILE's folder (stdin: the working folder), or under --root. */
function libraryOfFile(file: string, io: Io, root: string | undefined): Library {
  const text = io.readFile(file);
  if (file === '-') return Library.fromSource(text, '<stdin>', { host: folderHost(root ?? process.cwd()) });
  const host = folderHost(root ?? dirname(resolve(file)));
  const dir = relative(host.root, dirname(resolve(file)));
  if (dir.startsWith('..') || isAbsolute(dir)) throw new UsageError(`\`${file}\` is not inside --root ${root}`);
  return Library.fromSource(text, file, { host, dir: dir.split(sep).join('/') });
}

const rootFlag = { root: { type: 'string' } } as const;

/** `--option k=v` values, parsed as lossc literals (numbers, true/false, none, "strings", [lists]). */
export function parseOptionFlags(list: unknown): Record<string, Static> {
  const out: Record<string, Static> = {};
  for (const item of (list as string[] | undefined) ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--option takes name=value, got \`${item}\``);
    const name = item.slice(0, eq).trim();
    const text = item.slice(eq + 1).trim();
    out[name] = parseStatic(text, `--option ${name}`);
  }
  return out;
}

export function parseStatic(text: string, where: string): Static {
  const expr = parseExpression(text, where);
  registerSource(where, text);
  return evalStatic(Library.stdlib(), expr);
}

function header(def: Definition): string {
  const params = def.params.map((p) => p.name).join(', ');
  const opts = def.options.map((o) => `${o.name} = ${printDefault(o.default)}`).join(', ');
  return `${def.kind} ${def.name}(${params}${opts ? `; ${opts}` : ''})`;
}

function printDefault(e: Definition['options'][number]['default']): string {
  // A literal default is shown as it was written (`1.0`, not `1`).
  if (e.kind === 'number') return e.text;
  try {
    return showStatic(evalStatic(Library.stdlib(), e));
  } catch {
    return '?';
  }
}

const check: Command = {
  flags: { ...help, ...rootFlag },
  usage: `usage: lossc check FILE... | - [--root DIR]

Parse and check each file: syntax, names, arity, option types, shapes (with the shapes its
annotations give). Every error is reported with its line, column and a caret. Imports are
.loss files relative to the importing file, inside FILE's folder (stdin: the working folder)
or inside --root DIR.`,
  run(flags, files, io) {
    if (files.length === 0) throw new UsageError('check needs at least one FILE (or - for standard input)');
    let failed = 0;
    for (const file of files) {
      const name = file === '-' ? '<stdin>' : file;
      const { errors, count } = checkProgram(() => libraryOfFile(file, io, flags.root as string | undefined));
      if (errors.length) {
        failed++;
        io.err(errors.map((e) => e.message).join('\n\n'));
        io.err(`${name}: ${errors.length} error${errors.length === 1 ? '' : 's'}`);
      } else {
        io.out(`${name}: ok (${count} definition${count === 1 ? '' : 's'})`);
      }
    }
    return failed ? 1 : 0;
  },
};

const show: Command = {
  flags: { ...help, file: { type: 'string', short: 'f' }, ...rootFlag, option: { type: 'string', multiple: true, short: 'o' }, latex: { type: 'boolean' } },
  usage: `usage: lossc show NAME [--file F [--root DIR]] [--option k=v ...] [--latex]

Print a definition's documentation, signature, options and its formula after lowering
(helpers inlined, options kept symbolic unless given).`,
  run(flags, args, io) {
    if (args.length !== 1) throw new UsageError('show takes one NAME');
    const lib = libraryFor(flags, io);
    const entry = lib.require(args[0]!);
    const def = entry.def;
    const lowered = lowerDefinition(lib, def.name, { symbolic: true, options: parseOptionFlags(flags.option) });
    const sig = displaySignature(def);
    const lines: string[] = [];
    lines.push(`${def.name}: ${def.kind} from ${entry.file}`);
    if (def.doc) lines.push('', ...def.doc.split('\n').map((l) => `  ${l}`));
    lines.push('', `  ${header(def)}`);
    lines.push('', 'inputs:');
    for (const p of def.params) lines.push(`  ${p.name}: ${sig[p.name]!.dtype === 'float32' ? '' : sig[p.name]!.dtype + ' '}${showShape(sig[p.name]!.shape)}`);
    if (def.options.length) {
      lines.push('', 'options:');
      const given = parseOptionFlags(flags.option);
      for (const o of def.options) {
        lines.push(`  ${o.name} = ${o.name in given ? showStatic(lowered.options[o.name]!) : printDefault(o.default)}${o.name in given ? '  (given)' : ''}`);
      }
    }
    lines.push('', `formula (value shape ${showShape(lowered.value.shape)}):`);
    const hints = lowered.hints;
    if (flags.latex) lines.push(toLatex(lowered.value, { hints }));
    else lines.push(...printBody(lowered.value, { hints }).text.split('\n').map((l) => `  ${l}`));
    if (lowered.mask) lines.push('', 'mask (entries counted in the mean):', `  ${printBody(lowered.mask, { hints }).text}`);
    io.out(lines.join('\n'));
    return 0;
  },
};

const list: Command = {
  flags: { ...help, file: { type: 'string', short: 'f' }, ...rootFlag, builtins: { type: 'boolean' } },
  usage: `usage: lossc list [--file F [--root DIR]] [--builtins]

List every loss, regularizer and helper (the stdlib's, and FILE's), with the first line of its
documentation. --builtins lists the primitive functions instead.`,
  run(flags, _args, io) {
    if (flags.builtins) {
      for (const [name, fn] of Object.entries(BUILTINS).sort()) {
        io.out(`${name}(${fn.params.map((p) => ('default' in p ? `${p.name} = ${showStatic(p.default!)}` : p.name)).join(', ')})  ${fn.doc}`);
      }
      return 0;
    }
    const lib = libraryFor(flags, io);
    const groups: Record<string, string[]> = { loss: [], regularizer: [], def: [] };
    for (const name of lib.names().sort()) {
      const { def } = lib.get(name)!;
      const first = def.doc.split('\n')[0] ?? '';
      groups[def.kind]!.push(`  ${name.padEnd(40)} ${first}`);
    }
    io.out(['losses:', ...groups.loss!, '', 'regularizers:', ...groups.regularizer!, '', 'helpers (def):', ...groups.def!].join('\n'));
    return 0;
  },
};

const grad: Command = {
  flags: {
    ...help,
    wrt: { type: 'string', multiple: true },
    file: { type: 'string', short: 'f' },
    ...rootFlag,
    option: { type: 'string', multiple: true, short: 'o' },
    format: { type: 'string' },
    raw: { type: 'boolean' },
    explain: { type: 'boolean' },
  },
  usage: `usage: lossc grad NAME --wrt INPUT [--wrt INPUT ...] [--file F [--root DIR]] [--option k=v ...]
                  [--format text|latex|dot] [--raw] [--explain]

Print the derivative of a loss's per-sample values (summed) with respect to INPUT, simplified
and stabilised, shared sub-expressions as let bindings. Options stay symbolic unless given
with --option. The text printed is valid lossc. --raw skips simplification; --explain lists
the rewrite rules that fired.`,
  run(flags, args, io) {
    if (args.length !== 1) throw new UsageError('grad takes one NAME');
    const wrt = (flags.wrt as string[] | undefined) ?? [];
    if (wrt.length === 0) throw new UsageError('grad needs --wrt INPUT (e.g. --wrt y_pred)');
    const format = (flags.format as string | undefined) ?? 'text';
    if (!['text', 'latex', 'dot'].includes(format)) throw new UsageError(`--format must be text, latex or dot, got \`${format}\``);
    const lib = libraryFor(flags, io);
    const d = derivative(args[0]!, wrt, { library: lib, options: parseOptionFlags(flags.option), raw: flags.raw === true });
    io.out(format === 'latex' ? d.toLatex() : format === 'dot' ? d.toDot() : d.toString());
    if (flags.explain) io.err(`rules fired:\n${explain(d.fired)}`);
    return 0;
  },
};

const evalCmd: Command = {
  flags: { ...help, backend: { type: 'string' } },
  usage: `usage: lossc eval [--backend cpu|wasm]

Read requests as JSON Lines on standard input and write one JSON line per request, in order:
  {"id": 1, "loss": "binary_crossentropy", "options": {"from_logits": true},
   "reduction": "sum_over_batch_size", "y_true": [[0, 1]], "y_pred": [[-1.5, 2]], "grad": true}
gives {"id": 1, "value": ..., "grad": [[...]]}; a bad request gives {"id": ..., "error": {"kind", "message"}}.
Other fields: "source" (lossc text defining the loss), "call": "function" (per-sample values),
"sample_weight", "mask".`,
  async run(flags, args, io) {
    if (args.length) throw new UsageError('eval reads standard input and takes no arguments');
    await useBackend((flags.backend as string | undefined) ?? 'cpu');
    await runEval(process.stdin, io.out);
    return 0;
  },
};

const demo: Command = {
  flags: { ...help, epochs: { type: 'string' } },
  usage: `usage: lossc demo [--epochs N]

Train a small tfjs model on an imbalanced synthetic problem twice, with lossc's focal_loss and
with binary_crossentropy, and print the focal loss's formula, its derivative, both training
curves and the minority-class recall each reaches.`,
  async run(flags, args, io) {
    if (args.length) throw new UsageError('demo takes no arguments');
    const epochs = flags.epochs === undefined ? 15 : Number(flags.epochs);
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1000) throw new UsageError('--epochs must be a whole number from 1 to 1000');
    await useBackend('cpu');
    const { runFocal } = await import('../../examples/focal.js');
    const r = await runFocal({ epochs, quiet: true });
    io.out(r.text);
    return 0;
  },
};

const plot: Command = {
  flags: { ...help, ...PLOT_FLAGS },
  usage: PLOT_USAGE,
  run: (flags, args, io) => runPlot(flags, args, { library: libraryFor(flags, io), parseOptions: parseOptionFlags, parseValue: parseStatic, out: io.out }),
};

const playground: Command = {
  flags: { ...help, port: { type: 'string', short: 'p' }, dir: { type: 'string' } },
  usage: `usage: lossc playground [--port N] [--dir FOLDER]

Serve the playground page on http://127.0.0.1:N/ (default 8080; 0 picks a free port) until
interrupted: an editor for losses, their derivative as text and LaTeX, option sliders over
plots of the loss and its derivative, and a model trained in the page. The page runs lossc in
the browser; the server only hands out the static files of site/dist (npm run site builds them).`,
  async run(flags, args, io) {
    if (args.length) throw new UsageError('playground takes no arguments');
    const port = flags.port === undefined ? 8080 : Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a whole number from 0 to 65535');
    const { siteFolder, serveStatic } = await import('./playground.js');
    const { url } = await serveStatic(await siteFolder(flags.dir as string | undefined), port);
    io.out(`lossc playground: ${url} (Ctrl-C stops it)`);
    return new Promise<number>(() => {});
  },
};

// ---- export (issue 16) --------------------------------------------------------------------------

const exportCmd: Command = {
  flags: {
    ...help,
    to: { type: 'string', short: 't' },
    out: { type: 'string' },
    file: { type: 'string', short: 'f' },
    option: { type: 'string', multiple: true, short: 'o' },
    'with-gradient': { type: 'boolean' },
  },
  usage: `usage: lossc export [NAME...] --to pytorch|numpy|jax|keras [--out FILE.py] [--file F]
                    [--option k=v ...] [--with-gradient]

Write a loss as one readable Python module: NAME(y_true, y_pred, sample_weight=None, *,
reduction=..., OPTION=DEFAULT) with Keras's semantics, NAME_per_sample, and the target's wrapper
(torch.nn.Module, keras.losses.Loss). With --file and no NAME, every loss of the file. Options
whose value changes the formula (axis, ignore_class) are fixed by --option; numeric ones stay
keyword arguments. --with-gradient (pytorch, jax): lossc's simplified derivative as the backward
pass. Without --out the module goes to standard output.`,
  run(flags, args, io) {
    if (flags.to === undefined) throw new UsageError('export needs --to pytorch|numpy|jax|keras');
    if (args.length === 0 && flags.file === undefined) throw new UsageError('export takes a NAME (or --file F for every loss of F)');
    const lib = libraryFor(flags, io);
    const given = parseOptionFlags(flags.option);
    const command = ['lossc export', ...args, `--to ${String(flags.to)}`, flags.file ? `--file ${String(flags.file)}` : '', ...((flags.option as string[] | undefined) ?? []).map((o) => `-o ${o}`), flags['with-gradient'] ? '--with-gradient' : ''].filter(Boolean).join(' ');
    const text = exportFromLibrary(lib, args.length ? args : null, flags.to as string, {
      options: given,
      withGradient: flags['with-gradient'] === true,
      source: flags.file ? String(flags.file) : 'the lossc stdlib',
      command,
    });
    if (flags.out === undefined) io.out(text.replace(/\n$/, ''));
    else writeOutput(String(flags.out), text);
    return 0;
  },
};

function writeOutput(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new LosscError('import', `cannot write \`${path}\`: ${(e as Error).message}`);
  }
}

export const commands: Record<string, Command> = { check, show, list, grad, eval: evalCmd, demo, export: exportCmd, plot, playground };
