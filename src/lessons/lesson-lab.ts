/**
 * Which lab a lesson runs in: a lesson that overrides the world gets a lab of its own, and the next
 * lesson without one gets the plain lab back. The tutor's learner session moves to the new lab.
 */
import type { EventBus } from '../events/bus.js';
import type { TutorLab, TutorOptions } from './tutor-types.js';
import type { Lesson } from './types.js';

export class LessonLab {
  /** The world overrides the lab runs with (undefined: the plain world). */
  private world: unknown;
  /** The lab has served no lesson yet: the launcher started it for the first one (Tutor.plan). */
  private unused = true;

  constructor(
    /** The lab running now. */
    public current: TutorLab,
    private readonly bus: EventBus,
    private readonly restart: TutorOptions['restartLab'],
  ) {}

  /** The launcher started the current lab in this world (the first lesson's, read from the plan). */
  startedIn(world: unknown): void {
    this.world = world;
  }

  /** Make the current lab the one `lesson` runs in; true when it is a new lab. */
  async for(lesson: Lesson): Promise<boolean> {
    const unused = this.unused;
    this.unused = false;
    if (!this.restart) return false;
    // The lab the launcher started in this lesson's world is kept for its first start; a `:reset` or a
    // later start of a lesson with a world gets a fresh lab (a `:relay strict` or a `:fault` set in it
    // must not outlive it), and the plain lab is restarted only to leave such a world.
    if (unused && sameWorld(lesson.world, this.world)) return false;
    if (lesson.world === undefined && this.world === undefined) return false;
    await this.current.stop();
    this.current = await this.restart(lesson.world, this.bus);
    this.world = lesson.world;
    return true;
  }
}

/** Two world overrides that make the same lab (both none, or equal values). */
function sameWorld(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}
