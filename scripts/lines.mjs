// `npm run lines`: code lines per stage of src/ and grammar/ against the budget in line-budget.json,
// and the size rules (no file over 500 lines, no function over 80) unless a `size:` reason is given.
//
// A line of code is a line holding at least one token that is not a comment (TypeScript's scanner
// decides). A file may exceed 500 lines if its first line is a comment `// size: <reason>`; a function
// may exceed 80 if the line above it, or the first line of its body, is such a comment.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = JSON.parse(readFileSync(join(ROOT, 'scripts/line-budget.json'), 'utf8'));
const MAX_FILE = 500;
const MAX_FUNCTION = 80;
const REASON = /^\s*\/\/\s*size:\s*\S/;

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** The stage a file belongs to: its folder under src/ (a file directly in src/ is `src`), or `grammar`. */
function stageOf(rel) {
  const parts = rel.split('/');
  if (parts[0] === 'grammar') return 'grammar';
  return parts.length > 2 ? `src/${parts[1]}` : 'src';
}

function codeLines(text) {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /* skipTrivia */ true, ts.LanguageVariant.Standard, text);
  const lines = new Set();
  const lineOf = (pos) => ts.getLineAndCharacterOfPosition(source, pos).line;
  const source = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest);
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    const start = lineOf(scanner.getTokenStart());
    const end = lineOf(scanner.getTokenEnd());
    for (let l = start; l <= end; l++) lines.add(l);
  }
  return lines.size;
}

function longFunctions(rel, text) {
  const source = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      const length = end - start + 1;
      const bodyFirst = source.getLineAndCharacterOfPosition(node.body.getStart(source)).line + 1;
      const excused = REASON.test(lines[start - 1] ?? '') || REASON.test(lines[bodyFirst] ?? '');
      if (length > MAX_FUNCTION && !excused) found.push(`${rel}:${start + 1}: a function of ${length} lines (max ${MAX_FUNCTION})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const perStage = new Map();
const problems = [];
for (const file of [...filesUnder(join(ROOT, 'src')), ...filesUnder(join(ROOT, 'grammar'))].sort()) {
  const rel = relative(ROOT, file).split('\\').join('/');
  if (/\.generated\.ts$/.test(rel)) continue; // data written by the build, not code a person maintains
  const text = readFileSync(file, 'utf8');
  const total = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (total > MAX_FILE && !REASON.test(text.split('\n')[0] ?? '')) problems.push(`${rel}: ${total} lines (max ${MAX_FILE})`);
  problems.push(...longFunctions(rel, text));
  const stage = stageOf(rel);
  perStage.set(stage, (perStage.get(stage) ?? 0) + codeLines(text));
}

let sum = 0;
for (const [stage, n] of [...perStage].sort()) {
  console.log(`${stage.padEnd(16)} ${String(n).padStart(6)}`);
  sum += n;
}
console.log(`${'total'.padEnd(16)} ${String(sum).padStart(6)}   budget ${BUDGET.total}`);
if (sum > BUDGET.total) problems.push(`src/ and grammar/ hold ${sum} lines of code, over the budget of ${BUDGET.total} (scripts/line-budget.json)`);
for (const p of problems) console.error(p);
process.exitCode = problems.length ? 1 : 0;
