// examples/ddp/train.py: the exported focal loss under torch.distributed (gloo, 2 processes on
// 127.0.0.1): the loss falls and both ranks end with the same weights.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportLoss } from '../src/export/index.js';
import { PYTHON, pythonHas, SKIP_NOTE, tempDir } from './helpers/python.js';

const HAVE = pythonHas(['torch', 'torch.distributed']);

describe.skipIf(!HAVE)('examples/ddp', () => {
  it('trains with the exported focal loss on 2 gloo processes: loss falls, ranks agree', () => {
    const module = join(tempDir('ddp'), 'focal.py');
    writeFileSync(module, exportLoss('binary_focal_crossentropy', 'pytorch'));
    const script = fileURLToPath(new URL('../examples/ddp/train.py', import.meta.url));
    const r = spawnSync(PYTHON, [script, module], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { first: number; last: number; max_weight_diff: number; ok: boolean };
    expect(out.last).toBeLessThan(0.7 * out.first);
    expect(out.max_weight_diff).toBe(0);
  }, 150_000);
});

// Without Python and torch, say so (CI installs them, so there this never shows).
if (!HAVE) describe('examples/ddp', () => it.skip(SKIP_NOTE, () => {}));
