/**
 * The echo server: every byte that arrives goes straight back. `c.next()` hands a view of the read
 * arena, and writing that view back costs no copy: the reactor writes from the arena itself.
 */
import { defineHandler } from '../../lib/index.js';

export default defineHandler({
  react(c) {
    return c.next();
  },
});
