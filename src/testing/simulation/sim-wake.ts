import type { WakeListener, WakeMessage, WakeTransport } from '../../ports/wake.js';
import type { SimScheduler } from './sim-scheduler.js';

/** What the network does with one wake message: deliver it, drop it, or deliver it `delayMs` late. */
export type WakeFate = { readonly kind: 'deliver' } | { readonly kind: 'drop' } | { readonly kind: 'delay'; readonly delayMs: number };

/**
 * The wake channel between simulated kernels (K2): a message sent to a listening kernel becomes a
 * ready item of the receiving node (so it waits while that kernel is paused and is gone if it
 * crashes), unless `fate` drops it or delays it on the network's clock. `send` answers true once
 * the message left, as a socket write does, whatever becomes of it; false when nobody listens.
 */
export class SimWakeNetwork {
  private readonly listeners = new Map<string, (message: WakeMessage) => void>();

  constructor(
    private readonly scheduler: SimScheduler,
    private readonly fate: (from: string, to: string, message: WakeMessage) => WakeFate,
    private readonly log: (line: string) => void,
  ) {}

  /** The transport of one kernel incarnation (`node`), listening at `wake://<node>`. */
  transport(node: string): WakeTransport {
    const address = `wake://${node}`;
    return {
      listen: async (onMessage: (message: WakeMessage) => void): Promise<WakeListener> => {
        this.listeners.set(address, onMessage);
        return { address, close: async () => void this.listeners.delete(address) };
      },
      send: async (to: string, message: WakeMessage): Promise<boolean> => {
        const target = to.slice('wake://'.length);
        if (!this.listeners.has(to) || this.scheduler.state(target) === 'down') return false;
        const text = `${message.type} ${message.key}${message.type === 'cancel' ? ` ${message.runId}` : message.urgent ? ' urgent' : ''}`;
        const fate = this.fate(node, target, message);
        const arrive = () =>
          this.scheduler.enqueue({
            node: target,
            label: `${target} wake arrives from ${node}: ${text}`,
            run: () => this.listeners.get(to)?.(message),
          });
        if (fate.kind === 'drop') this.log(`network drops wake ${node} -> ${target}: ${text}`);
        else if (fate.kind === 'delay') {
          this.log(`network delays wake ${node} -> ${target} by ${fate.delayMs} ms: ${text}`);
          this.scheduler.setTimer('network', fate.delayMs, arrive);
        } else arrive();
        return true;
      },
    };
  }

  /** A crashed kernel's address stops answering. */
  forget(node: string): void {
    this.listeners.delete(`wake://${node}`);
  }
}
