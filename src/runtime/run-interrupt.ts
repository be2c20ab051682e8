import type { InterruptReason } from '../core/interrupt.js';
import { HoldfastError } from '../errors.js';

const CODES = { preempt: 'preempted', cancel: 'cancelled', lost: 'owner_lost', stop: 'kernel_stopping', deadline: 'deadline' } as const;

/** The abort reason of a run's signal; flows see it as the error their awaits reject with. */
export class RunInterrupt extends HoldfastError {
  readonly reason: InterruptReason;
  constructor(reason: InterruptReason, message: string) {
    super(CODES[reason.kind], message);
    this.reason = reason;
  }
}
