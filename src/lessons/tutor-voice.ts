/**
 * Everything the tutor says goes on the lab's bus as a `tutor` event, never a side channel: at the
 * stage where the learner's session stands (else the lesson's first), tagged with its lesson, so each
 * view shows the words in seq order right after the evidence that caused them.
 */
import type { EventBus } from '../events/bus.js';
import type { ExplainMode, TutorEvent, TutorSays } from '../events/types.js';
import type { Stage } from '../protocol/stages.js';

/** Where the words are said: the stage and the lesson they belong to. */
export type Whereabouts = () => { stage: Stage; lesson?: string };

const EXPLAIN_WORDS: Record<ExplainMode, string> = {
  full: 'Explanations: in full under every line.',
  brief: 'Explanations: in full the first time a kind of line appears in a lesson, then in one sentence; relay legs only when they fail.',
  off: 'Explanations: off. `:explain` explains the last line; `:explain brief` brings them back.',
};

export class TutorVoice {
  constructor(
    private readonly bus: EventBus,
    private readonly where: Whereabouts,
  ) {}

  say(says: TutorSays, text: string, step?: number, watched?: boolean): void {
    this.emit(says, text, watched ? { watched } : {}, step);
  }

  /** `:wire on|off`: said on the bus, so every view switches to (or from) what travels at once. */
  wireView(on: boolean, tcpReads: boolean): void {
    const text = on
      ? `Wire view: on. Each line ends in the \\r\\n it travelled with${tcpReads ? ', each read from the socket is shown as it arrived' : ' (start with --wire to see each TCP read too)'}. \`:wire off\` for the normal view.`
      : 'Wire view: off.';
    this.emit('info', text, { wireView: on });
  }

  /** `:explain full|brief|off`: said on the bus, so every view shows explanations the same way. */
  explainMode(mode: ExplainMode): void {
    this.emit('info', EXPLAIN_WORDS[mode], { explainMode: mode });
  }

  private emit(says: TutorSays, text: string, mode: Pick<TutorEvent, 'wireView' | 'explainMode' | 'watched'>, step?: number): void {
    const { stage, lesson } = this.where();
    this.bus.emit({ type: 'tutor', stage, says, text, ...mode, ...(lesson ? { lesson } : {}), ...(step !== undefined ? { step } : {}) });
  }
}
