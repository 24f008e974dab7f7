/** The status line's counters say what is true now: recipients still waiting, not messages ever seen. */
import { afterEach, describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import type { LabEventInput } from '../../src/events/types.js';
import { WatchApp } from '../../src/views/tui/watch-app.js';
import { applyEvents, createModel } from '../../src/views/tui/transcript-model.js';
import { EventBus } from '../../src/events/bus.js';
import { emitted, themed, until } from './helpers.js';

afterEach(() => cleanup());

describe('the status line counts what is true now', () => {
  const q = (queueId: string, recipients: string[]): LabEventInput => ({ type: 'queued', queueId, session: 'S1', from: 'a@example.com', recipients, size: 10, stage: 'queue' });
  it('in queue and deferred count the recipients still waiting; delivered and bounced count what happened', () => {
    const model = createModel('watch');
    applyEvents(
      model,
      emitted([
        q('Q1', ['bob@example.com', 'dave@example.org']),
        { type: 'delivered', queueId: 'Q1', recipient: 'bob@example.com', via: 'local', stage: 'queue' },
        { type: 'deferred', queueId: 'Q1', recipient: 'dave@example.org', reply: '450 greylisted', attempt: 1, nextAttempt: '2026-01-01T00:00:05.000Z', stage: 'queue' },
      ]),
    );
    expect(model.counts).toMatchObject({ inQueue: 1, deferred: 1, delivered: 1, bounced: 0 });
    applyEvents(model, emitted([{ type: 'delivered', queueId: 'Q1', recipient: 'dave@example.org', via: 'relay', stage: 'queue' }]));
    expect(model.counts).toMatchObject({ inQueue: 0, deferred: 0, delivered: 2 });
    // A bounce, and its notice queued and delivered in turn.
    applyEvents(
      model,
      emitted([
        q('Q2', ['x@nowhere.invalid']),
        { type: 'bounced', queueId: 'Q2', recipient: 'x@nowhere.invalid', reply: 'no MX', bounceQueueId: 'Q3', notify: 'a@example.com', stage: 'queue' },
        { type: 'queued', queueId: 'Q3', from: '', recipients: ['a@example.com'], size: 10, stage: 'queue' },
        { type: 'delivered', queueId: 'Q3', recipient: 'a@example.com', via: 'local', stage: 'queue' },
      ]),
    );
    expect(model.counts).toMatchObject({ inQueue: 0, deferred: 0, delivered: 3, bounced: 1 });
  });

  it("watch's footer shows them, and drops deferred once nothing is deferred", async () => {
    const bus = new EventBus();
    const { lastFrame } = render(themed(<WatchApp bus={bus} frameMs={10} />));
    await until(lastFrame, (t) => t.includes('in queue 0'));
    bus.emit(q('Q1', ['dave@example.org']));
    bus.emit({ type: 'deferred', queueId: 'Q1', recipient: 'dave@example.org', reply: '450', attempt: 1, nextAttempt: '2026-01-01T00:00:05.000Z', stage: 'queue' });
    await until(lastFrame, (t) => t.includes('! deferred 1') && t.includes('in queue 1'));
    bus.emit({ type: 'delivered', queueId: 'Q1', recipient: 'dave@example.org', via: 'relay', stage: 'queue' });
    const f = await until(lastFrame, (t) => t.includes('in queue 0'));
    const footer = f.split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).not.toContain('deferred');
    expect(footer).toContain('delivered 1');
  });
});
