// Stands in, in the bundle (see bundle.mjs), for modules never used there: react-devtools-core (ink
// uses it only under DEV=true) and zod's translated error messages (every schema words its own).
export default {};
export const connectToDevTools = () => {};
