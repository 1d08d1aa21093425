/**
 * Subscription index: filters split by level into a trie; `+` matches one level, `#` the rest
 * (including the parent level, [MQTT-4.7.1-2]); a wildcard at the first level never matches a
 * topic starting with `$` [MQTT-4.7.2-1]. Each node holds values by key (one per subscriber+filter).
 */
interface TrieNode<V> {
  readonly children: Map<string, TrieNode<V>>;
  readonly values: Map<string, V>;
}

const newNode = <V>(): TrieNode<V> => ({ children: new Map(), values: new Map() });

export class TopicTrie<V> {
  readonly #root: TrieNode<V> = newNode();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(filter: string, key: string, value: V): void {
    let node = this.#root;
    for (const level of filter.split('/')) {
      let next = node.children.get(level);
      if (next === undefined) {
        next = newNode();
        node.children.set(level, next);
      }
      node = next;
    }
    if (!node.values.has(key)) this.#size++;
    node.values.set(key, value);
  }

  remove(filter: string, key: string): boolean {
    const path: [TrieNode<V>, string][] = [];
    let node = this.#root;
    for (const level of filter.split('/')) {
      const next = node.children.get(level);
      if (next === undefined) return false;
      path.push([node, level]);
      node = next;
    }
    if (!node.values.delete(key)) return false;
    this.#size--;
    // Prune empty branches, bottom-up.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i]!;
      const child = parent.children.get(level)!;
      if (child.values.size > 0 || child.children.size > 0) break;
      parent.children.delete(level);
    }
    return true;
  }

  /** Calls `visit` for every value whose filter matches `topic`. */
  match(topic: string, visit: (value: V, key: string) => void): void {
    const levels = topic.split('/');
    const dollar = topic.startsWith('$');
    this.#walk(this.#root, levels, 0, dollar, visit);
  }

  #walk(node: TrieNode<V>, levels: readonly string[], i: number, dollar: boolean, visit: (value: V, key: string) => void): void {
    const wildcardsAllowed = !(dollar && i === 0);
    if (wildcardsAllowed) {
      const hash = node.children.get('#');
      if (hash !== undefined) for (const [k, v] of hash.values) visit(v, k);
    }
    if (i === levels.length) {
      for (const [k, v] of node.values) visit(v, k);
      return;
    }
    const exact = node.children.get(levels[i]!);
    if (exact !== undefined) this.#walk(exact, levels, i + 1, dollar, visit);
    if (wildcardsAllowed) {
      const plus = node.children.get('+');
      if (plus !== undefined) this.#walk(plus, levels, i + 1, dollar, visit);
    }
  }
}

/** Whether `filter` (no `$share` prefix) matches `topic`: the same rules as the trie, for retained messages. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  const dollar = topic.startsWith('$');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return !(dollar && i === 0);
    if (i >= t.length) return false;
    if (level === '+') {
      if (dollar && i === 0) return false;
      continue;
    }
    if (level !== t[i]) return false;
  }
  return f.length === t.length;
}
