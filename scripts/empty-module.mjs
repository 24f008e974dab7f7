// Stands in for react-devtools-core in the bundle (see bundle.mjs): ink only uses it under DEV=true.
export default {};
export const connectToDevTools = () => {};
