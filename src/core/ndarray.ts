/**
 * The one module that imports ndarray and ndarray-ops (DESIGN.md): shaped
 * views over flat typed arrays for whole-table work, never for inner loops.
 * Use these default imports only; other import forms break under tsx.
 */
import ndarray from "ndarray";
import ops from "ndarray-ops";

export type { NdArray } from "ndarray";
export { ndarray, ops };
