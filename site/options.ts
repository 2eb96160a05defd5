// The option sliders of the playground: one per numeric option of the chosen loss, starting at
// its default, over a range that suits the option (a table for the names papers use).

import type { Definition } from '../grammar/ast.js';
import type { Library } from '../src/lower/library.js';
import { evalStatic } from '../src/lower/lower.js';
import { symbolFor } from '../src/plot/index.js';

/** Slider ranges for the usual option names; others run from 0 to three times their default. */
const RANGES: Record<string, [number, number]> = {
  gamma: [0, 5],
  alpha: [0, 1],
  beta: [0, 5],
  delta: [0.05, 3],
  margin: [0, 2],
  margin1: [0, 2],
  margin2: [0, 2],
  label_smoothing: [0, 0.5],
  q: [0.05, 1],
  tau: [0, 1],
};

function rangeFor(name: string, value: number): [number, number] {
  const r = RANGES[name];
  if (r) return [Math.min(r[0], value), Math.max(r[1], value)];
  const hi = Math.max(1, 3 * Math.abs(value));
  return [Math.min(0, value), hi];
}

/** The numeric options of a definition and their defaults. */
export function numericOptions(lib: Library, def: Definition): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const o of def.options) {
    try {
      const v = evalStatic(lib, o.default);
      if (typeof v === 'number' && Number.isFinite(v)) out.push([o.name, v]);
    } catch {
      // A default that is not a plain value (it depends on another option) gets no slider.
    }
  }
  return out;
}

/** Fill `box` with sliders; `values` holds the current values and is updated as they move. */
export function renderSliders(box: HTMLElement, options: Array<[string, number]>, values: Map<string, number>, onInput: () => void): void {
  box.replaceChildren();
  if (options.length === 0) {
    box.textContent = 'This loss has no numeric options.';
    return;
  }
  for (const [name, dflt] of options) {
    const value = values.get(name) ?? dflt;
    values.set(name, value);
    const [lo, hi] = rangeFor(name, dflt);
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'range';
    input.name = name;
    input.dataset.option = name;
    input.min = String(lo);
    input.max = String(hi);
    input.step = String((hi - lo) / 100);
    input.value = String(value);
    const out = document.createElement('output');
    out.textContent = String(value);
    input.addEventListener('input', () => {
      const v = Number(input.value);
      values.set(name, v);
      out.textContent = String(Math.round(v * 1000) / 1000);
      onInput();
    });
    label.append(`${symbolFor(name)} (${name})`, input, out);
    box.append(label);
  }
}
