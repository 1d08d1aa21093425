import type { BusMessage } from '../ports.js';
import { filterMatches } from '../topics/topic-trie.js';

/** Retained messages of one namespace: one per topic; an empty payload clears [MQTT-3.3.1-10/11]. */
export class RetainedStore {
  readonly #byTopic = new Map<string, BusMessage>();

  get size(): number {
    return this.#byTopic.size;
  }

  /** Stores or clears (empty payload) the retained message of `message.topic`. */
  put(message: BusMessage): void {
    if (message.payload.length === 0) this.#byTopic.delete(message.topic);
    else this.#byTopic.set(message.topic, message);
  }

  /** Retained messages matching a filter, dropping expired ones (`now` in epoch ms). */
  matching(filter: string, now: number): BusMessage[] {
    const out: BusMessage[] = [];
    for (const [topic, m] of this.#byTopic) {
      if (m.expiresAt !== undefined && m.expiresAt <= now) {
        this.#byTopic.delete(topic);
        continue;
      }
      if (filterMatches(filter, topic)) out.push(m);
    }
    return out;
  }
}
