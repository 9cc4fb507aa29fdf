/**
 * undici, for the webhooks (notify/webhooks.ts), which import it on first use (`await import('../http/undici.js')`):
 * most runs send none. The probes and the edge's admin API use node:http (http/request.ts). A static import here, not a dynamic import of the package itself, so the
 * bundle (scripts/bundle.mjs) gives its named exports from undici's CommonJS build.
 */
export { Agent, request } from 'undici'
