import type { BusMessage, MessageBus } from './ports.js';

/** Single-node MessageBus: delivers synchronously to the local subscribers. */
export class InProcessBus implements MessageBus {
  readonly #handlers = new Set<(message: BusMessage) => void>();

  publish(message: BusMessage): void {
    for (const h of this.#handlers) h(message);
  }

  subscribe(deliver: (message: BusMessage) => void): () => void {
    this.#handlers.add(deliver);
    return () => {
      this.#handlers.delete(deliver);
    };
  }
}
