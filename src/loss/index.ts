export {
  LOSS_NAMES,
  LOSS_TABLE,
  type Loss,
  type LossInfo,
  type LossName,
  type LossNeed,
  type LossParams,
  type LossValue,
  makeLoss,
} from "./losses.ts";
export { projectNonNegative } from "./positive.ts";
