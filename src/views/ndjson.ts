/** The NDJSON view: one event per line on stdout, for scripts and tests (`serve --json`). */
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';

export function attachNdjson(bus: EventBus, out: NodeJS.WritableStream = process.stdout): () => void {
  return bus.subscribe((event: LabEvent) => {
    out.write(JSON.stringify(event) + '\n');
  });
}
