/**
 * The NDJSON view: one event per line on stdout, for scripts and tests (`serve --json`). A run of
 * message lines (EventBus.emitLines) is written as the events it stands for, one a line as always,
 * in one write.
 */
import { expandLines, isMessageLines, type EventBus } from '../events/bus.js';

export function attachNdjson(bus: EventBus, out: NodeJS.WritableStream = process.stdout): () => void {
  return bus.subscribeRuns((event) => {
    if (!isMessageLines(event)) {
      out.write(JSON.stringify(event) + '\n');
      return;
    }
    let text = '';
    for (const e of expandLines(event)) text += JSON.stringify(e) + '\n';
    out.write(text);
  });
}
