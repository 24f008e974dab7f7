/** The annotations live in src/data/ (the lab's event stream needs them too); the tutor imports them from here. */
export { Annotations, loadAnnotations, type Annotation } from '../data/annotations.js';
