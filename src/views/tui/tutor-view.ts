/**
 * What the TUI needs of the tutor engine: the public face of src/lessons/tutor.ts's Tutor. Tests pass
 * a small fake with a real EventBus (its words are `tutor` events on it); the command passes the real Tutor.
 */
import type { Tutor } from '../../lessons/tutor.js';

export type TutorView = Pick<Tutor, 'bus' | 'state' | 'onChange' | 'submit'> & Partial<Pick<Tutor, 'isLearnerSession' | 'quit'>>;
