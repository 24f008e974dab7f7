/**
 * What a learner reads: every lesson loads and cites the RFC, the lesson text matches what the screen
 * shows, hints say what a step needs, and the annotations say it right, once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAnnotations } from '../../src/data/annotations.js';
import { citesRfcSection, loadLessons, LESSONS_DIR } from '../../src/lessons/load.js';
import { base } from './learner-events.js';

const { lessons, errors } = loadLessons();
const lesson = (id: string) => lessons.find((l) => l.id === id)!;

describe('the curriculum', () => {
  it('every lesson file cites at least one RFC section', () => {
    const files = readdirSync(LESSONS_DIR).filter((f) => /^\d+.*\.md$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(citesRfcSection(readFileSync(path.join(LESSONS_DIR, f), 'utf8')), f).toBe(true);
  });

  it('a step that says "type `:dns …`" waits for the learner\'s own lookup (`by: you`), in every lesson', () => {
    // A receiver checking the learner's mail looks the same names up (lesson 19's key, 20's policy).
    const dnsParts = (p: object): { by?: string }[] => Object.entries(p).flatMap(([k, v]) => (k === 'dns' ? [v] : Array.isArray(v) ? v.flatMap(dnsParts) : []));
    const typed = lessons.flatMap((l) => l.steps.filter((s) => /`:dns /.test(s.instruction)).map((s) => ({ id: l.id, parts: dnsParts(s.expect) })));
    expect(typed.map((s) => s.id)).toEqual(['18-spf', '19-dkim', '20-dmarc']);
    for (const s of typed) expect(s.parts.map((d) => d.by), s.id).toEqual(['you']);
  });

  it('every lesson loads', () => {
    expect(errors.map((e) => `${e.file}:${e.line}: ${e.message}`)).toEqual([]);
  });
});

describe('lesson text matches the screen', () => {
  it('lesson 01 no longer asks for :reconnect; lesson 08 shows the relay leg as the transcript does', () => {
    expect(lesson('01-connection').steps[0]!.instruction).not.toMatch(/:reconnect/);
    expect(lesson('01-connection').solution).not.toContain(':reconnect');
    expect(lesson('08-relay-mx').body).toMatch(/\(relay R1\) C: MAIL FROM:/);
    expect(lesson('08-relay-mx').body).not.toMatch(/^L: /m);
  });

  it('no step 1 asks for :reconnect (the lesson opens a session; its 220 is on screen)', () => {
    for (const l of lessons) expect(l.steps[0]!.instruction, l.id).not.toMatch(/:reconnect/);
  });

  it('lesson 07 shows the Received: line as the lab writes it, with the queue id', () => {
    const body = lesson('07-local-delivery').body;
    expect(body).toContain('Received: from client.example ([127.0.0.1])');
    expect(body).not.toContain('[127.0.0.1] [127.0.0.1]');
    expect(body).toMatch(/with ESMTP id 1A2B3C/);
    expect(body).toMatch(/queue id/);
  });

  it('lesson 08 describes the plain view and the terminal UI', () => {
    const body = lesson('08-relay-mx').body;
    expect(body).toMatch(/── message <queue id> ──/);
    expect(body).toMatch(/`\[S2\]` in the terminal UI/);
  });

  it("lesson 04 step 3's first hint says what the message needs", () => {
    expect(lesson('04-data').steps[2]!.hints[0]).toMatch(/From:.*Date:.*empty line/s);
  });
});

describe('annotations', () => {
  it('the port is 2525 by default, and a 5xx bounces at once', () => {
    const a = loadAnnotations();
    expect(a.lookup('listening')?.text).toMatch(/2525 by default/);
    expect(a.lookup('bounced')?.text).toMatch(/5xx.*at once.*4xx.*retried/s);
  });

  it('550 5.7.1 (a refused relay) names RFC 5321 §3.6.2 once', () => {
    const a = loadAnnotations();
    const line = '550 5.7.1 <erin@example.net>: Relay access denied';
    const text = a.explain({ ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'server', line, code: 550, enhanced: '5.7.1', replyTo: 'RCPT', stage: 'transmission' })!;
    expect(text.match(/§3\.6\.2/g)).toHaveLength(1);
  });
});
