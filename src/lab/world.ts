/** The world file's loader moved to src/data/world.ts; this keeps tutor.ts's type import working until it points there. */
export type { World, DomainSpec, MxRecord, RemoteBehaviour } from '../data/world.js';
