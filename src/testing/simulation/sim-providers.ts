import type { Json } from '../../model/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Provider, TurnRequest } from '../../ports/provider.js';
import { fakeProvider, type FakeScript, type FakeTurn } from '../../providers/fake-provider.js';

/** What the fault plan does to one provider turn. */
export type TurnFault = 'none' | 'abort-mid-stream' | 'late';

/** One provider call as the invariant checks see it. */
export interface ObservedTurn {
  readonly index: number;
  readonly node: string;
  readonly provider: string;
  readonly runId: string;
  readonly seq: number;
  readonly attempt: number;
  readonly epoch: number;
  readonly fault: TurnFault;
  readonly startedAt: number;
  abortedAt: number | undefined;
  /** The scheduler's mark when its signal aborted (orders it against store calls issued after). */
  abortedMark: number | undefined;
  settledAt: number | undefined;
  /** The answer, when it resolved. */
  value: Json | undefined;
}

/**
 * The scripted providers of the simulation. Each kernel incarnation gets its own fakeProvider per
 * script, on that incarnation's clock (a crash stops its turns); every call is recorded for the
 * checks (when it started, was aborted, answered) and may be given a fault: cut mid-stream (the
 * turn fails halfway) or late (it ignores the abort and answers at its scripted time anyway).
 * An array script is indexed by the call number across incarnations and cycles.
 */
export class SimProviders {
  readonly calls: ObservedTurn[] = [];
  private readonly byResult = new WeakMap<object, ObservedTurn>();

  constructor(
    private readonly scripts: Readonly<Record<string, FakeScript>>,
    private readonly fault: (provider: string, request: TurnRequest) => TurnFault,
    private readonly onTurn: (turn: ObservedTurn) => void,
    private readonly log: (line: string) => void,
    private readonly mark: () => number,
  ) {}

  /** The providers of kernel incarnation `node`, on its clock. */
  forNode(node: string, clock: Clock): Record<string, Provider> {
    const providers: Record<string, Provider> = {};
    for (const [name, script] of Object.entries(this.scripts)) {
      let pending: { fault: TurnFault; index: number } = { fault: 'none', index: 0 };
      const inner = fakeProvider((request) => withFault(pickTurn(script, request, pending.index), pending.fault), { clock });
      providers[name] = {
        runTurn: (request: TurnRequest): Promise<Json> => {
          const { turn } = request;
          const fault = this.fault(name, request);
          pending = { fault, index: this.calls.length };
          const observed: ObservedTurn = {
            index: this.calls.length,
            node,
            provider: name,
            runId: turn.runId,
            seq: turn.turnSeq,
            attempt: turn.attempt,
            epoch: turn.epoch,
            fault,
            startedAt: clock.now(),
            abortedAt: request.signal.aborted ? clock.now() : undefined,
            abortedMark: request.signal.aborted ? this.mark() : undefined,
            settledAt: undefined,
            value: undefined,
          };
          this.calls.push(observed);
          request.signal.addEventListener(
            'abort',
            () => {
              observed.abortedAt ??= clock.now();
              observed.abortedMark ??= this.mark();
            },
            { once: true },
          );
          this.onTurn(observed);
          const answer = inner.runTurn(request);
          answer.then(
            (value) => {
              observed.settledAt = clock.now();
              observed.value = value;
              if (typeof value === 'object' && value !== null) this.byResult.set(value, observed);
              const late = observed.abortedAt !== undefined ? ' after its abort (a late result)' : '';
              this.log(`${node} provider ${name} call #${observed.index} answers${late}`);
            },
            () => (observed.settledAt = clock.now()),
          );
          return answer;
        },
      };
    }
    return providers;
  }

  /** The call a committed turn result came from (by identity; primitive results are not traced). */
  callOf(result: unknown): ObservedTurn | undefined {
    return typeof result === 'object' && result !== null ? this.byResult.get(result) : undefined;
  }
}

function pickTurn(script: FakeScript, request: TurnRequest, index: number): FakeTurn {
  if (typeof script === 'function') return script(request, index);
  if (script.length === 0) throw new RangeError('a simulation provider script needs at least one turn');
  return script[index % script.length]!;
}

/** A turn with its fault applied: cut halfway with an error, or deaf to its abort. */
function withFault(turn: FakeTurn, fault: TurnFault): FakeTurn {
  if (fault === 'late') return { ...turn, ignoreAbort: true };
  if (fault !== 'abort-mid-stream') return turn;
  const duration = Math.max(2, turn.durationMs ?? 0);
  return {
    ...turn,
    durationMs: Math.floor(duration / 2),
    chunks: (turn.chunks ?? []).filter((c) => c.atMs < duration / 2),
    fail: 'the provider stream was cut mid-turn (simulated fault)',
  };
}
