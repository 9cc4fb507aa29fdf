/**
 * undici, for the modules that import it on first use (`await import('../http/undici.js')`): most commands
 * never send an HTTP request. A static import here, not a dynamic import of the package itself, so the
 * bundle (scripts/bundle.mjs) gives its named exports from undici's CommonJS build.
 */
export { Agent, request } from 'undici'
