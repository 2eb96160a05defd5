// Issue 13's bench sections, one line each: `npm run bench` runs them in this order after the loss
// workloads and prints their rows in one goals table (bench/section.ts). Add a section with one line.
import type { Section } from './section.js';

export const SECTIONS: Array<[name: string, run: Section]> = [];
