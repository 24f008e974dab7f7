/** The stage bar: the stages the learner's session reached in this lesson, as the server went along. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { LabEventInput } from '../../src/events/types.js';
import { applyEvents, createModel, setLearner } from '../../src/views/tui/transcript-model.js';
import { emitted, FakeTutor, renderTutorApp, until } from './helpers.js';

afterEach(() => cleanup());

describe('the stage bar', () => {
  const wire = (session: string, direction: 'client' | 'server', line: string, stage: string, extra: object = {}): LabEventInput =>
    ({ type: 'wire', session, leg: 'inbound', direction, line, stage, ...extra }) as LabEventInput;
  /** A tutor model whose learner is S1, fed S1's opening and greeting, then `lines`. */
  const greetedS1 = (lines: LabEventInput[]) => {
    const model = createModel('tutor');
    setLearner(model, 'S1');
    const opening: LabEventInput[] = [
      { type: 'session-open', session: 'S1', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 1, stage: 'connection' },
      wire('S1', 'server', '220 mx', 'connection', { code: 220 }),
    ];
    applyEvents(model, emitted([...opening, ...lines]));
    return model;
  };
  it('stands at termination between the 221 and the close, then ticks it', () => {
    const model = greetedS1([wire('S1', 'client', 'QUIT', 'termination'), wire('S1', 'server', '221 Bye', 'termination', { code: 221, replyTo: 'QUIT' })]);
    expect(model.stages).toEqual({ current: 'termination', visited: ['connection', 'termination'] });
    applyEvents(model, emitted([{ type: 'session-close', session: 'S1', leg: 'inbound', reason: 'quit', stage: 'termination' }]));
    expect(model.stages).toEqual({ visited: ['connection', 'termination'] });
  });

  it('keeps the stage current for a session dropped before QUIT: a message cut off in DATA is not ticked as done (review)', () => {
    const model = greetedS1([
      wire('S1', 'client', 'DATA', 'transmission'),
      wire('S1', 'server', '354 go ahead', 'transmission', { code: 354, replyTo: 'DATA' }),
      { type: 'session-close', session: 'S1', leg: 'inbound', reason: 'closed', stage: 'transmission' },
    ]);
    expect(model.stages).toEqual({ current: 'transmission', visited: ['connection', 'transmission'] });
  });

  it('starts over with each lesson, and a rejected command does not count as reaching its stage', () => {
    const model = greetedS1([
      wire('S1', 'client', 'EHLO me', 'handshake'),
      wire('S1', 'server', '250 mx', 'handshake', { code: 250, replyTo: 'EHLO' }),
      wire('S1', 'client', 'QUIT', 'termination'),
      wire('S1', 'server', '221 Bye', 'termination', { code: 221, replyTo: 'QUIT' }),
      { type: 'session-close', session: 'S1', leg: 'inbound', reason: 'quit', stage: 'termination' },
    ]);
    // Closed after QUIT: no stage is current any more, and termination is ticked with the others.
    expect(model.stages).toEqual({ visited: ['connection', 'handshake', 'termination'] });
    // Lesson 2: a fresh session, then the lesson starts.
    setLearner(model, 'S2');
    applyEvents(
      model,
      emitted([
        { type: 'session-open', session: 'S2', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 2, stage: 'connection' },
        wire('S2', 'server', '220 mx', 'connection', { code: 220 }),
        { type: 'lesson', lesson: 'helo', action: 'start', step: 0, stage: 'handshake' },
      ]),
    );
    expect(model.stages).toEqual({ current: 'connection', visited: ['connection'] });
    // MAIL before EHLO: the server says 503, the session is not in transmission.
    applyEvents(
      model,
      emitted([
        wire('S2', 'client', 'MAIL FROM:<a@example.com>', 'transmission'),
        wire('S2', 'server', '503 5.5.1 Error: send HELO/EHLO first', 'transmission', { code: 503, replyTo: 'MAIL' }),
      ]),
    );
    expect(model.stages).toEqual({ current: 'connection', visited: ['connection'] });
  });

  it('is drawn from what the session reached, not carried over', async () => {
    const tutor = new FakeTutor();
    const { lastFrame } = await renderTutorApp(tutor);
    tutor.bus.emit({ type: 'session-open', session: 'learner1', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 3, stage: 'connection' });
    tutor.wire('learner1', 'server', '220 mx', { stage: 'connection', code: 220 });
    tutor.bus.emit({ type: 'lesson', lesson: 'helo', action: 'start', step: 0, stage: 'handshake' });
    tutor.wire('learner1', 'client', 'MAIL FROM:<a@example.com>', { stage: 'transmission' });
    tutor.wire('learner1', 'server', '503 5.5.1 Error: send HELO/EHLO first', { stage: 'transmission', code: 503, replyTo: 'MAIL' });
    const f = await until(lastFrame, (t) => t.includes('503 5.5.1'));
    expect(f).toContain('▶ connection');
    expect(f).toContain('· handshake');
    expect(f).toContain('· transmission');
    expect(f).toContain('· termination');
  });
});
