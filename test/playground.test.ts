// The playground page as a person uses it, in headless Chromium (playwright-core, /usr/bin/chromium
// or $CHROMIUM): type a focal loss and a mistake, read the error under its line, the derivative as
// text and as typeset LaTeX, move gamma and see the curve change, train and see the loss fall.
// Screenshots of the page and of `lossc plot`'s golden SVGs go to test/screenshots/ (gitignored).
// Skipped, saying why, when there is no Chromium. Timeouts are hang guards; it runs in about 30 s.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { serveStatic } from '../src/cli/playground.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(import.meta.dirname, 'screenshots');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`playground test skipped: no Chromium at ${CHROMIUM} (set CHROMIUM to its path)`);

const FOCAL = [
  'loss my_focal(y_true, y_pred; gamma = 2.0) =',
  'let p = clip(y_pred, epsilon, 1 - epsilon)',
  'let p_t = y_true * p + (1 - y_true) * (1 - p)',
  'mean(-(1 - p_t)^gamma * log(p_t), axis = -1)',
];

describe.skipIf(!haveChromium)('the playground page in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let page: Page;

  beforeAll(async () => {
    // @ts-expect-error: a plain .mjs build script, without types
    const { buildSite } = (await import('../scripts/site.mjs')) as { buildSite: (out: string) => Promise<string> };
    const folder = await buildSite(join(ROOT, 'site', 'dist'));
    const served = await serveStatic(folder, 0);
    server = served.server;
    const { chromium } = await import('playwright-core');
    const args = ['--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist', '--disable-dev-shm-usage'];
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    browser = await chromium.launch({ executablePath: CHROMIUM, args });
    page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
    page.on('pageerror', (e) => console.error('page error:', e));
    page.on('console', (m) => m.type() === 'error' && console.error('page console:', m.text()));
    await page.goto(served.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    mkdirSync(SHOTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  const text = (id: string) => page.$eval(`[data-testid="${id}"]`, (e) => e.textContent ?? '');
  const curve = (kind: string) => page.$eval(`[data-testid="plot"] svg[data-kind="${kind}"] path[data-curve]`, (e) => e.getAttribute('d') ?? '');

  async function typeSource(lines: string[]): Promise<void> {
    await page.click('[data-testid="source"]');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    // Indented continuation lines, typed as a person would.
    await page.keyboard.type(lines.map((l, i) => (i === 0 ? l : `  ${l}`)).join('\n'));
  }

  it('a focal loss typed in: checked, its derivative printed and typeset, its curve drawn', async () => {
    await typeSource(FOCAL);
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="loss"]') as HTMLSelectElement | null)?.value === 'my_focal' &&
        document.querySelector('[data-testid="errors"]')?.textContent?.endsWith('ok (1 definition)') &&
        document.querySelector('[data-testid="derivative"]')?.textContent?.startsWith('let'),
      undefined,
      { timeout: 30_000 },
    );
    expect(await text('errors')).toBe('playground.loss: ok (1 definition)');
    const d = await text('derivative');
    expect(d).toContain('clip(y_pred, epsilon, 1 - epsilon)');
    expect(d).toContain('^(gamma - 1)');
    expect(d).toMatch(/^where\(y_pred >= epsilon and y_pred <= 1 - epsilon, /m);
    // KaTeX rendered it: its DOM, with the TeX source kept as the MathML annotation.
    const tex = await page.$eval('[data-testid="derivative-latex"]', (e) => ({
      katex: e.querySelectorAll('.katex .katex-html').length,
      error: e.querySelectorAll('.katex-error').length,
      source: e.querySelector('annotation[encoding="application/x-tex"]')?.textContent ?? '',
    }));
    expect(tex.katex).toBe(1);
    expect(tex.error).toBe(0);
    expect(tex.source).toContain('\\frac{\\partial \\mathcal{L}}{\\partial y_{\\mathrm{pred}}}');
    expect(await page.$$eval('[data-testid="options"] input[type="range"]', (xs) => xs.map((x) => x.getAttribute('name')))).toEqual(['gamma']);
    expect((await curve('value')).length).toBeGreaterThan(100);
    await page.screenshot({ path: join(SHOTS, 'playground.png'), fullPage: true });
  }, 45_000);

  it('moving gamma redraws the loss and its derivative', async () => {
    const [before, slope] = [await curve('value'), await curve('derivative')];
    await page.$eval('[data-testid="options"] input[name="gamma"]', (e) => {
      const input = e as HTMLInputElement;
      input.value = '0';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction((old) => document.querySelector('[data-testid="plot"] svg[data-kind="value"] path[data-curve]')?.getAttribute('d') !== old, before, { timeout: 30_000 });
    expect(await curve('value')).not.toBe(before);
    expect(await curve('derivative')).not.toBe(slope);
    expect(await text('plot')).toContain('γ = 0');
  }, 45_000);

  it('training lowers the loss, and its curve is drawn', async () => {
    await page.click('[data-testid="train"]');
    await page.waitForSelector('[data-testid="train-curve"][data-done="true"]', { timeout: 60_000 });
    const losses = JSON.parse(await page.$eval('[data-testid="train-curve"]', (e) => (e as HTMLElement).dataset.losses ?? '[]')) as number[];
    expect(losses.length).toBe(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
    expect(await page.$$('[data-testid="train-curve"] svg path[data-curve]')).toHaveLength(1);
    expect(await text('train-status')).toMatch(/→ .* in 20 epochs on (webgl|cpu|wasm)/);
    await page.screenshot({ path: join(SHOTS, 'playground-trained.png'), fullPage: true });
  }, 75_000);

  it('a mistake is shown under its line, with the caret and the did-you-mean', async () => {
    await typeSource([...FOCAL.slice(0, 3), 'mean(-(1 - p_t)^gamma * lgo(p_t), axis = -1)']);
    // Wait for the check of the whole text (a pause while typing may show an intermediate one).
    await page.waitForFunction(
      () => {
        const t = document.querySelector('[data-testid="errors"]')?.textContent ?? '';
        return t.includes('did you mean `log`') && t.includes('lgo(p_t), axis = -1)');
      },
      undefined,
      { timeout: 30_000 },
    );
    const err = await text('errors');
    expect(err).toMatch(/^playground\.loss:4:\d+: name error: .*`lgo`.*did you mean `log`/);
    const lines = err.split('\n');
    const at = lines.findIndex((l) => /^4 \| /.test(l));
    expect(lines[at]).toBe('4 |   mean(-(1 - p_t)^gamma * lgo(p_t), axis = -1)');
    // The caret sits under `lgo`.
    expect(lines[at + 1]!.indexOf('^')).toBe(lines[at]!.indexOf('lgo'));
    // The derivative panel says why there is none (the same error), instead of a stale formula.
    expect(await text('derivative')).toContain('did you mean `log`');
    expect(await text('derivative')).not.toContain('where(');
    await page.screenshot({ path: join(SHOTS, 'playground-error.png'), fullPage: true });
  }, 45_000);

  it('renders lossc plot\'s golden SVGs (screenshots for the README)', async () => {
    for (const name of ['focal-paper', 'huber', 'huber-derivative']) {
      const svg = readFileSync(join(ROOT, 'test', 'golden', `${name}.svg`), 'utf8');
      const p = await browser.newPage({ viewport: { width: 640, height: 420 } });
      await p.setContent(`<html><body style="margin:0">${svg}</body></html>`);
      expect(await p.$$('svg path[data-curve]')).not.toHaveLength(0);
      await p.screenshot({ path: join(SHOTS, `${name}.png`) });
      await p.close();
    }
  }, 45_000);
});
