/**
 * Echo over a Unix stream socket: the same handler as the TCP echo (a Unix connection has the
 * same API); only the address differs. See config.ts for its default path.
 */
export { default } from '../echo/handler.js';
