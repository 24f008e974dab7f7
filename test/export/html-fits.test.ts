/**
 * The HTML handout's diagram shows every label whole, in a real Chromium. An instructor's trial: a
 * message's queued note was cut at the left edge ("ueued as …") and the remote MTA's 220 at the right
 * of the SVG's viewBox — beautiful-mermaid lays labels out for Inter's widths and the page's font was
 * wider — and the caption called a message's journey "the session".
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHtml } from '../../src/export/html.js';
import { selectTranscript } from '../../src/export/select.js';
import { RawSmtp, code, skipReason, startTestLab, tempDir, until, type TestLab } from '../helpers/lab.js';

let lab: TestLab;
let queueId: string;
beforeAll(async () => {
  lab = await startTestLab();
  const s = await RawSmtp.connect(lab.port);
  expect(code(await s.command('EHLO html.test'))).toBe(250);
  expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
  expect(code(await s.command('RCPT TO:<dave@example.net>'))).toBe(250);
  expect(code(await s.command('DATA'))).toBe(354);
  const reply = await s.message(['From: alice@example.com', 'To: dave@example.net', 'Subject: a handout', '', 'hello']);
  queueId = /queued as (\S+)/.exec(reply.at(-1)!)![1]!;
  expect(code(await s.command('QUIT'))).toBe(221);
  await until(lab.events, (ev) => ev.some((e) => e.type === 'delivered' && e.queueId === queueId));
  s.close();
});
afterAll(async () => {
  await lab.cleanup();
});

/** Each of the diagram's labels that the browser draws outside the SVG's viewBox, as Chromium lays it out. */
function clipped(html: string): string[] {
  const dir = tempDir('smtp-lab-html-fits-');
  const page = path.join(dir, 'measure.html');
  // The handout has no script; this copy of it measures, for the test only.
  const measure = `<script>addEventListener('load', () => {
    const svg = document.querySelector('figure svg');
    const [x, , w] = svg.getAttribute('viewBox').split(/\\s+/).map(Number);
    const out = [...svg.querySelectorAll('text')].filter((t) => { const b = t.getBBox(); return b.x < x - 0.5 || b.x + b.width > x + w + 0.5; }).map((t) => t.textContent);
    document.body.setAttribute('data-clipped', JSON.stringify(out));
  });</script>`;
  writeFileSync(page, html.replace('</body>', `${measure}</body>`));
  const dom = execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${path.join(dir, 'chromium')}`, '--dump-dom', `file://${page}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 45_000,
  });
  const attr = /data-clipped="([^"]*)"/.exec(dom)?.[1];
  expect(attr, 'the measuring script ran').toBeDefined();
  return JSON.parse(attr!.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')) as string[];
}

describe('the HTML handout\'s diagram', () => {
  it('draws every label inside the picture, a message\'s journey with its relay leg', { timeout: 60_000 }, (ctx) => {
    const reason = skipReason('chromium');
    if (reason) return ctx.skip(reason);
    const html = toHtml(selectTranscript([{ run: 'r', events: lab.events }], { message: queueId }));
    expect(clipped(html)).toEqual([]);
  });

  it('says what it draws: a message\'s journey, or a session', () => {
    expect(toHtml(selectTranscript([{ run: 'r', events: lab.events }], { message: queueId }))).toContain('<figcaption class="meta">The message\'s journey as a sequence diagram.</figcaption>');
    expect(toHtml(selectTranscript([{ run: 'r', events: lab.events }], { last: true }))).toContain('<figcaption class="meta">The session as a sequence diagram.</figcaption>');
  });
});
