/**
 * The learner's `:pipeline` group as the stream announces it: the tutor says its echo before any of its
 * lines go out, and the group is as many commands as the echo names (the command splits them the same
 * way). The runner holds a step's words until the group's last reply; the views regroup its replies.
 */
import type { LabEvent } from '../events/types.js';
import { tutorCommandOf } from './tutor-commands.js';

/** How many commands a `:pipeline` echo announces, or undefined for any other event. */
export function pipelineEchoSize(e: LabEvent): number | undefined {
  if (e.type !== 'tutor' || e.says !== 'echo') return undefined;
  const hit = tutorCommandOf(e.text);
  if (hit?.command.name !== ':pipeline') return undefined;
  const n = hit.arg.split('|').filter((l) => l.trim() !== '').length;
  return n > 0 ? n : undefined;
}
