export { concatSmall as default } from './concat.js';
