/**
 * Transcripts you can hand out: a real lab's event log exported as Markdown, as Mermaid (read back by
 * Mermaid's own parser), as an HTML page (opened in a real headless Chromium, screenshot and DOM), and
 * drawn in the terminal — through the command line, as an instructor runs it (the command table in
 * this process; the built binary for one refusal).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import stringWidth from 'string-width';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mermaid from 'mermaid';
import { flushEventLog, readEventLog, type LoggedRun } from '../../src/events/event-log.js';
import { selectTranscript } from '../../src/export/select.js';
import { toMarkdown } from '../../src/export/markdown.js';
import { toMermaid } from '../../src/export/mermaid.js';
import { toHtml } from '../../src/export/html.js';
import { RawSmtp, code, skipReason, startTestLab, tempDir, until, type TestLab } from '../helpers/lab.js';
import { runCli, runSmtpLab, stopCliRuns } from '../helpers/cli.js';

afterEach(stopCliRuns);

let lab: TestLab;
let dataDir: string;
let runs: LoggedRun[];
let relayed: string;
let bouncing: string;
let session: string;

async function send(s: RawSmtp, to: string, lines: string[]): Promise<string> {
  expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
  expect(code(await s.command(`RCPT TO:<${to}>`))).toBe(250);
  expect(code(await s.command('DATA'))).toBe(354);
  const reply = await s.message(lines);
  expect(code(reply)).toBe(250);
  return /queued as (\S+)/.exec(reply.at(-1)!)![1]!;
}

beforeAll(async () => {
  dataDir = tempDir('smtp-lab-export-');
  // A lax lab: one message keeps a bare LF, which the default (strict) relay refuses with 550 5.5.2.
  lab = await startTestLab({ dataDir, worldOverrides: { relay: { bare_lf: 'pass' } } });
  const s = await RawSmtp.connect(lab.port);
  await s.command('EHLO teacher.test');
  // Characters Mermaid would take for syntax, and a bare LF (shown, never obeyed).
  relayed = await send(s, 'dave@example.net', ['Subject: lunch; at #1 <noon>', '', 'See you\nthere']);
  bouncing = await send(s, 'nobody@nowhere.invalid', ['Subject: verloren, Grüße', '', 'Nobody reads this.']);
  await s.command('QUIT');
  s.close();
  await until(lab.events, (es) => es.some((e) => e.type === 'delivered' && e.queueId === relayed) && es.some((e) => e.type === 'bounced' && e.queueId === bouncing));
  // The bounce itself is delivered to alice: the end of the journey.
  await until(lab.events, (es) => es.some((e) => e.type === 'delivered' && e.recipient === 'alice@example.com'));
  session = lab.events.find((e) => e.type === 'queued' && e.queueId === relayed)!.session!;
  flushEventLog(lab.bus);
  await lab.stop();
  runs = readEventLog(dataDir);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('export --format md', () => {
  it('heads each stage, keeps each line as sent with control bytes shown, links the RFCs', () => {
    const md = toMarkdown(selectTranscript(runs, { session }));
    expect(md).toMatch(/^# smtp-lab: session S\d+/);
    for (const stage of ['Connection', 'Handshake', 'Transmission', 'Termination']) expect(md).toContain(`\n## ${stage}\n`);
    expect(md).toContain('`C: EHLO teacher.test`');
    expect(md).toContain('`C: See you␊there`');
    expect(md).toContain('[RFC 5321 §4.1.1.1](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.1)');
    // Said once: the second MAIL FROM has no explanation under it.
    expect(md.match(/MAIL FROM:\\<reverse-path\\> starts/g)).toHaveLength(1);
  });
});

describe('export --format mermaid', () => {
  it("is a sequence diagram Mermaid's own parser accepts, for a session and for a whole journey", async () => {
    const forSession = toMermaid(selectTranscript(runs, { session }));
    const journey = toMermaid(selectTranscript(runs, { message: bouncing }));
    await expect(mermaid.parse(forSession)).resolves.toMatchObject({ diagramType: 'sequence' });
    await expect(mermaid.parse(journey)).resolves.toMatchObject({ diagramType: 'sequence' });
    // The parser is not lenient: the same text unescaped is refused.
    await expect(mermaid.parse(forSession.replace('#59;', ';\n  ->>'))).rejects.toThrow();
    expect(forSession).toContain('MAIL FROM:#lt;alice@example.com#gt;');
    expect(forSession).toMatch(/Note over client,lab: handshake/);
    // A Subject: sent in UTF-8 reads as its text in the diagram, as in every view.
    expect(journey).toContain('Subject: verloren, Grüße');
    expect(toMarkdown(selectTranscript(runs, { message: bouncing }))).toContain('`C: Subject: verloren, Grüße`');
  });

  it('follows a message through the queue to the remote MX, and a bounce back to its sender', () => {
    const relay = toMermaid(selectTranscript(runs, { message: relayed }));
    expect(relay).toMatch(/participant remote1 as mx\.example\.net/);
    expect(relay).toMatch(/lab->>remote1: EHLO mx\.example\.com/);
    expect(relay).toMatch(/lab->>remote1: message, \d+ lines/);
    expect(relay).toMatch(/delivered to dave@example\.net/);
    const bounce = toMermaid(selectTranscript(runs, { message: bouncing }));
    expect(bounce).toMatch(/bounced for nobody@nowhere\.invalid/);
    expect(bounce).toMatch(new RegExp(`queued as ${bouncing}B\\d`));
    expect(bounce).toMatch(/delivered to alice@example\.com/);
  });
});

describe('export --format html', () => {
  it('is one page that needs no network, and draws in a real Chromium', { timeout: 60_000 }, (ctx) => {
    const html = toHtml(selectTranscript(runs, { message: relayed }));
    expect(html).not.toMatch(/<script|<link|@import|src=/i);
    const reason = skipReason('chromium');
    if (reason) return ctx.skip(reason);
    const page = path.join(dataDir, 'handout.html');
    const shot = path.join(dataDir, 'handout.png');
    writeFileSync(page, html);
    const chromium = (extra: string[]) =>
      execFileSync(
        'chromium',
        ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${path.join(dataDir, 'chromium')}`, '--window-size=1200,1600', ...extra, `file://${page}`],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 45_000 },
      );
    // One start of Chromium for both: the DOM as drawn, and the screenshot.
    const dom = chromium(['--dump-dom', `--screenshot=${shot}`]);
    expect(dom).toContain('<svg');
    expect(dom).toContain('C: MAIL FROM:&lt;alice@example.com&gt;');
    expect(dom).toContain('href="https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.2"');
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // A blank page compresses to almost nothing; a drawn diagram and transcript do not.
    expect(statSync(shot).size).toBeGreaterThan(40_000);
  });
});

describe('the command line', () => {
  // Asynchronous, so the runs a test needs go side by side instead of one after the other.
  const run = (args: string[]) => runCli([...args, '--data-dir', dataDir]).then((r) => ({ ...r, status: r.code }));
  const runBinary = (args: string[]) => runSmtpLab([...args, '--data-dir', dataDir], { stateHome: tempDir() }).then((r) => ({ ...r, status: r.code }));

  it('exports the last session by default and a journey with --message, to a file with -o', async () => {
    const out = path.join(dataDir, 'journey.mmd');
    const [last, journey] = await Promise.all([run(['export']), run(['export', '--format', 'mermaid', '--message', relayed, '-o', out])]);
    expect(last.status, last.stderr).toBe(0);
    expect(last.stdout).toContain(`# smtp-lab: session ${session}`);
    expect(journey.status, journey.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^sequenceDiagram\n/);
  });

  it('draws the diagram in box-drawing characters within the width', async () => {
    const widths = [60, 100];
    const runs = await Promise.all(widths.map((width) => run(['diagram', session, '--width', String(width)])));
    for (const [i, r] of runs.entries()) {
      const width = widths[i]!;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('│');
      expect(r.stdout).toContain('mx.example.com');
      for (const line of r.stdout.trimEnd().split('\n')) expect(stringWidth(line), line).toBeLessThanOrEqual(width);
    }
  });

  it('says in one line, exit 2, what is wrong with the request', async () => {
    const requests = [['export', 'S999'], ['export', '--format', 'pdf'], ['export', 'S1', '--last'], ['diagram', '--since', 'noonish'], ['export', '--message', 'NOPE']];
    // One of each command as a shell sees it (the built binary's exit status and stderr), the rest in this process.
    const runs = await Promise.all(requests.map((r, i) => (i === 0 || i === 3 ? runBinary(r) : run(r))));
    for (const [i, r] of runs.entries()) {
      expect(r.status, requests[i]!.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe(':diagram in the tutor', () => {
  it('draws the learner\'s session so far as the tutor\'s words, laid out within the width', async () => {
    const state = tempDir('smtp-lab-diagram-');
    try {
      const r = await runCli(['--port', '0', '--data-dir', path.join(state, 'data'), '--color=false'], {
        input: 'EHLO me.test\n:diagram\n:diagram S999\n:quit\n',
        stateHome: state,
        env: { COLUMNS: '72' },
      });
      expect(r.code, r.stderr).toBe(0);
      const drawn = r.stdout.slice(r.stdout.indexOf('> :diagram'), r.stdout.indexOf('> :diagram S999'));
      expect(drawn).toMatch(/» session S\d+/);
      expect(drawn).toMatch(/│ +EHLO me\.test +│/);
      for (const line of drawn.trimEnd().split('\n')) expect(stringWidth(line), line).toBeLessThanOrEqual(72);
      expect(r.stdout).toMatch(/No session S999/);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('an injected fault in a handout', () => {
  it("is a note where it acted, which Mermaid's parser accepts, before the reply it caused", async () => {
    const l = await startTestLab();
    try {
      l.faults.command(['dot', '554', '5.7.1', 'Refused;', 'see', '#policy', '--every']);
      const s = await RawSmtp.connect(l.port);
      await s.command('EHLO teacher.test');
      await s.command('MAIL FROM:<alice@example.com>');
      await s.command('RCPT TO:<bob@example.com>');
      await s.command('DATA');
      expect(code(await s.message(['Subject: refused', '', 'hi']))).toBe(554);
      s.close();
      const text = toMermaid({ title: 'session', run: 'test', hostname: 'mx.example.com', events: l.events.filter((e) => 'session' in e && e.session !== undefined) });
      await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'sequence' });
      const note = text.indexOf('Note over client,lab: ⚡ every end of the message');
      expect(note).toBeGreaterThan(-1);
      expect(note).toBeLessThan(text.indexOf('lab-->>client: 554 5.7.1'));
    } finally {
      await l.cleanup();
    }
  });
});
