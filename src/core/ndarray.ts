/**
 * The one module that imports ndarray (DESIGN.md): shaped views over flat
 * typed arrays for whole-table work, never for inner loops. Use this default
 * import only; other import forms break under tsx. (ndarray-ops, which
 * DESIGN.md also names, is not a dependency: nothing used it, and its
 * operations were compiled with `new Function` when the module loaded —
 * about 11 ms of every `nadir` command's start-up.)
 */
import ndarray from "ndarray";

export type { NdArray } from "ndarray";
export { ndarray };
