// The playground page: lossc running in the browser. The source is checked as `lossc check`
// does (errors with line, caret and did-you-mean); the chosen loss's derivative is printed as
// lossc text and typeset with KaTeX; sliders move its options and redraw the loss and its
// derivative (src/plot); a small model trains with it on the page's tfjs backend.

import * as tf from '@tensorflow/tfjs';
import katex from 'katex';
import type { Definition } from '../grammar/ast.js';
import * as grammar from '../grammar/index.js';
import { provideGrammar } from '../grammar/load.js';
import { derivative } from '../src/pipeline/derivative.js';
import { registerSource } from '../src/errors.js';
import { checkProgram } from '../src/lower/check.js';
import { Library } from '../src/lower/library.js';
import { STDLIB_SOURCES } from '../src/lower/stdlib-sources.js';
import { computePlot, MAPPINGS, toSvg, type Plot } from '../src/plot/index.js';
import { numericOptions, renderSliders } from './options.js';
import { taskDoc, train } from './train.js';

provideGrammar(grammar); // the page parses what is typed into it

const FILE = 'playground.loss';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const source = $<HTMLTextAreaElement>('source');
const errorsBox = $<HTMLPreElement>('errors');
const lossSelect = $<HTMLSelectElement>('loss');
const overSelect = $<HTMLSelectElement>('over');
const startSelect = $<HTMLSelectElement>('start');

interface State {
  library?: Library;
  def?: Definition;
  values: Map<string, number>;
  /** The options the sliders were built for (rebuilt when they change). */
  optionKey: string;
}
const state: State = { values: new Map(), optionKey: '' };

/** A stdlib loss as source text: its doc comment and its definition, as written. */
function stdlibSnippet(name: string): string {
  const entry = Library.stdlib().require(name);
  const text = STDLIB_SOURCES[entry.file.replace(/^stdlib\//, '')] ?? '';
  // The definition runs to the next one in its file (less that one's doc comment).
  const from = entry.def.span.offset;
  const next = [...Library.stdlib().entries.values()]
    .filter((e) => e.file === entry.file && e.def.span.offset > from)
    .reduce((m, e) => Math.min(m, e.def.span.offset), text.length);
  const lines = text.slice(from, next).split('\n');
  while (lines.length && /^\s*(#.*)?$/.test(lines[lines.length - 1]!)) lines.pop();
  const body = lines.join('\n');
  const doc = entry.def.doc ? entry.def.doc.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' : '';
  return doc + body + '\n';
}

/** The plot input a stdlib loss starts with (shown, and changeable, in the "Plot over" list). */
function startingOver(name: string): string {
  const file = Library.stdlib().require(name).file;
  if (file.endsWith('regression.loss')) return 'residual';
  if (file.endsWith('hinge.loss')) return 'margin';
  return 'p_t';
}

function fillSelects(): void {
  const stdlibLosses = Library.stdlib().names().filter((n) => Library.stdlib().get(n)?.def.kind === 'loss').sort();
  for (const n of stdlibLosses) startSelect.add(new Option(n, n, false, n === 'focal_loss'));
  for (const [name, m] of Object.entries(MAPPINGS)) overSelect.add(new Option(`${name}: ${m.label}`, name));
}

/** Re-check the source and refresh everything that depends on it. */
function update(): void {
  const text = source.value;
  registerSource(FILE, text);
  const checked = checkProgram(() => Library.fromSource(text, FILE));
  errorsBox.classList.toggle('ok', checked.errors.length === 0);
  errorsBox.textContent = checked.errors.length
    ? checked.errors.map((e) => e.message).join('\n\n')
    : `${FILE}: ok (${checked.count} definition${checked.count === 1 ? '' : 's'})`;
  state.library = checked.library;
  const losses = checked.library?.own.filter((d) => d.kind === 'loss') ?? [];
  const keep = lossSelect.value;
  lossSelect.replaceChildren(...losses.map((d) => new Option(d.name, d.name)));
  if (losses.some((d) => d.name === keep)) lossSelect.value = keep;
  else if (losses.length) lossSelect.value = losses[losses.length - 1]!.name;
  showLoss();
}

function showLoss(): void {
  const lib = state.library;
  const def = lib?.own.find((d) => d.name === lossSelect.value && d.kind === 'loss');
  state.def = def;
  const texBox = $('derivative-latex');
  if (!lib || !def) {
    $('derivative').textContent = lib ? 'Define a loss: loss name(y_true, y_pred; option = value) = ...' : 'Fix the errors above to see the derivative.';
    texBox.replaceChildren();
    $('plot').replaceChildren();
    return;
  }
  const wrt = def.params[1]?.name ?? def.params[0]?.name ?? 'y_pred';
  $('wrt').textContent = wrt;
  try {
    const d = derivative(def.name, wrt, { library: lib });
    $('derivative').textContent = d.toString();
    katex.render(d.toLatex(), texBox, { displayMode: true, throwOnError: false });
  } catch (e) {
    $('derivative').textContent = (e as Error).message;
    texBox.replaceChildren();
  }
  const options = numericOptions(lib, def);
  const key = `${def.name}|${options.map(([n]) => n).join(',')}`;
  if (key !== state.optionKey) {
    state.values = new Map();
    state.optionKey = key;
    renderSliders($('options'), options, state.values, schedulePlot);
  }
  void drawPlots();
}

function svgOf(plot: Plot, id: string): string {
  return toSvg(plot, { id }).replace('<svg ', `<svg data-kind="${id}" `);
}

let training = false;

/**
 * Redraw the plots. Their points are computed on the cpu backend (many small batches of new
 * sizes, which webgl would compile shaders for), switching back to the page's backend after;
 * while a model trains the plots wait for it.
 */
let drawing: Promise<void> = Promise.resolve();
function drawPlots(): Promise<void> {
  // One redraw at a time, so that backend switches never interleave.
  return (drawing = drawing.then(drawOnce, drawOnce));
}

async function drawOnce(): Promise<void> {
  const { library, def } = state;
  const box = $('plot');
  if (!library || !def) return;
  if (training) {
    box.dataset.stale = 'true';
    return;
  }
  const page = tf.getBackend();
  if (page !== 'cpu') await tf.setBackend('cpu');
  try {
    drawPlotsNow(library, def, box);
  } finally {
    if (page !== 'cpu') await tf.setBackend(page);
  }
}

function drawPlotsNow(library: Library, def: Definition, box: HTMLElement): void {
  delete box.dataset.stale;
  const over = overSelect.value;
  $('over-doc').textContent = `${over}: ${MAPPINGS[over]?.doc ?? ''}`;
  $('train-doc').textContent = taskDoc(over);
  const options = Object.fromEntries(state.values);
  try {
    const req = { library, losses: [def.name], over, options, width: 560, height: 380 };
    const value = computePlot(req);
    const slope = computePlot({ ...req, derivative: true });
    box.innerHTML = svgOf(value, 'value') + svgOf(slope, 'derivative');
  } catch (e) {
    const p = document.createElement('p');
    p.className = 'plot-error';
    p.textContent = (e as Error).message;
    box.replaceChildren(p);
  }
}

/** Redraw once per burst of slider moves (a timer, not requestAnimationFrame, so hidden tabs draw too). */
let pending: number | undefined;
function schedulePlot(): void {
  if (pending !== undefined) return;
  pending = window.setTimeout(() => {
    pending = undefined;
    void drawPlots();
  }, 30);
}

async function runTraining(): Promise<void> {
  const { library, def } = state;
  const status = $('train-status');
  const curveBox = $('train-curve');
  if (!library || !def) return;
  const button = $<HTMLButtonElement>('train');
  button.disabled = true;
  training = true;
  status.textContent = 'training…';
  const losses: number[] = [];
  const draw = () => {
    const pts = losses.map((v, i) => [i + 1, v] as [number, number]);
    const fin = losses.filter(Number.isFinite);
    const top = fin.length ? Math.max(...fin) : 1;
    const plot: Plot = {
      title: `training loss, ${def.name} (${tf.getBackend()})`, xLabel: 'epoch', yLabel: 'loss',
      xDomain: [1, 20], yDomain: [0, top > 0 ? top * 1.05 : 1], curves: [{ label: def.name, points: pts }], width: 560, height: 320,
    };
    curveBox.innerHTML = toSvg(plot, { id: 'train' });
    curveBox.dataset.losses = JSON.stringify(losses);
  };
  try {
    await train({ library, def, over: overSelect.value, options: Object.fromEntries(state.values) }, (epoch, v) => {
      losses.push(v);
      status.textContent = `epoch ${epoch}: loss ${v.toPrecision(4)}`;
      draw();
    });
    status.textContent = `loss ${losses[0]?.toPrecision(4)} → ${losses[losses.length - 1]?.toPrecision(4)} in ${losses.length} epochs on ${tf.getBackend()}`;
    curveBox.dataset.done = 'true';
  } catch (e) {
    status.textContent = (e as Error).message;
  } finally {
    button.disabled = false;
    training = false;
    if ($('plot').dataset.stale) void drawPlots();
  }
}

async function start(): Promise<void> {
  const want = new URLSearchParams(location.search).get('backend') ?? 'webgl';
  const ok = await tf.setBackend(want).catch(() => false);
  if (!ok) await tf.setBackend('cpu');
  await tf.ready();
  $('backend').textContent = `tfjs backend: ${tf.getBackend()}`;
  fillSelects();
  source.value = stdlibSnippet('focal_loss');
  overSelect.value = 'p_t';
  let timer = 0;
  source.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(update, 200);
  });
  startSelect.addEventListener('change', () => {
    source.value = stdlibSnippet(startSelect.value);
    overSelect.value = startingOver(startSelect.value);
    update();
  });
  lossSelect.addEventListener('change', showLoss);
  overSelect.addEventListener('change', () => void drawPlots());
  $('train').addEventListener('click', () => void runTraining());
  update();
  document.body.dataset.ready = 'true';
}

void start();
