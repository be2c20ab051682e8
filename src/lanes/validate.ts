/** The lane service's input checks live in the pure core, shared with `ctx.lane`. */
export {
  checkLane,
  checkLeaseId,
  checkMode,
  checkNonNegative,
  checkOwner,
  checkPositive,
  checkTree,
  optionalText,
} from '../core/lane-lease/validate.js';
