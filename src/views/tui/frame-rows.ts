/**
 * One frame's rows as they are appended: a header whenever the block (session or message) changes, and
 * in the tutor under load a cap on other people's rows — what is over the cap is counted and said in
 * one summary row at the end; the learner's own rows (priority) are never dropped.
 */
import { headerText, remember, YOU } from './transcript-groups.js';
import type { Row, RowInput, TranscriptModel } from './transcript-model.js';

export class FrameRows {
  rows: Row[] = [];
  /** HH:MM:SS of the event being turned into rows: a header it opens carries it. */
  now: string | undefined;
  private drawn = 0;
  private skipped = 0;
  private readonly skippedGroups = new Set<string>();

  constructor(
    private readonly model: TranscriptModel,
    /** Rows drawn in this frame at most (priority rows excepted). */
    private readonly maxRows: number,
  ) {}

  /** Appends `input` under `group`'s header (undefined: a row of no block, such as the tutor's words). */
  push(input: RowInput, group: string | undefined, priority: boolean): void {
    const model = this.model;
    if (!priority && this.drawn >= this.maxRows) {
      this.skipped++;
      if (group) this.skippedGroups.add(group);
      // The next drawn row needs its header again: its neighbours were left out.
      model.lastGroup = undefined;
      return;
    }
    if (group === undefined) {
      // A row of no group (the tutor's words) stands between the rows before and after it.
      model.lastGroup = undefined;
    } else if (group !== model.lastGroup) {
      // The learner's own lines need no header, except to say "back to you" after someone else's.
      const quietLearner = model.mode === 'tutor' && group === YOU && model.lastGroup === undefined;
      if (!quietLearner) {
        // Once per block; a block someone else's rows interrupted goes on under a short "(cont.)".
        const cont = model.headed.has(group);
        const text = cont ? `${headerText(model, group).split(' · ')[0]} (cont.)` : headerText(model, group);
        this.rows.push({ kind: 'header', id: model.nextId++, indent: group.startsWith('q:') ? 1 : 0, text, ...(this.now ? { time: this.now } : {}) });
        remember(model.headed, group);
      }
      model.lastGroup = group;
    }
    this.rows.push({ ...input, id: model.nextId++ } as Row);
    if (!priority) this.drawn++;
  }

  /** The transcript restarts (a lesson restart): this frame's rows so far and every header go. */
  restart(): void {
    this.rows = [];
    this.model.lastGroup = undefined;
    this.model.headed.clear();
  }

  /** The frame's rows, with the summary of what the cap left out. */
  finish(): Row[] {
    const { skipped, skippedGroups: groups } = this;
    if (skipped > 0) {
      this.rows.push({ kind: 'summary', id: this.model.nextId++, indent: 0, text: `⋯ ${skipped} more line${skipped === 1 ? '' : 's'} from ${groups.size} session${groups.size === 1 ? '' : 's'}/message${groups.size === 1 ? '' : 's'} not shown (busy)` });
      this.model.lastGroup = undefined;
    }
    return this.rows;
  }
}
