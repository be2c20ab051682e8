import type { CancelMode, PreemptKind, RunId } from '../model/index.js';

/** Why a runtime interrupted its active run. */
export type InterruptReason =
  | { readonly kind: 'stop' }
  | { readonly kind: 'lost' }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'preempt'; readonly mode: PreemptKind; readonly by: RunId }
  | { readonly kind: 'cancel'; readonly mode: CancelMode };

/**
 * What an interruption means for the run (K6, D8): `steal` parks it with a frame; `abort-keep`,
 * an operator's keep-cancel and a kernel stop requeue it from its last committed step;
 * `abort-drop` and an operator's drop end it `cancelled`; a deadline ends it `failed` with code
 * `deadline`; a lost lease writes nothing at all.
 */
export function interruptEffect(reason: InterruptReason): 'park' | 'requeue' | 'cancel' | 'fail' | 'nothing' {
  switch (reason.kind) {
    case 'stop':
      return 'requeue';
    case 'lost':
      return 'nothing';
    case 'deadline':
      return 'fail';
    case 'preempt':
      return reason.mode === 'steal' ? 'park' : reason.mode === 'abort-keep' ? 'requeue' : 'cancel';
    case 'cancel':
      return reason.mode === 'abort-keep' ? 'requeue' : 'cancel';
  }
}
