/**
 * Everything `coffer agent` needs beyond the library: the configuration file, the token and the HTTP server.
 * Kept out of index.ts so an application importing `coffer/secret-cache` loads the cache alone.
 */
export { AGENT_DEFAULTS, AgentConfigError, loadAgentConfig, loopbackAddress, port, resolveToken } from './config.js';
export type { AgentConfig, AgentLogLevel } from './config.js';
export { agentSecretJson, createAgentHandler, startAgentServer } from './server.js';
export type { AgentServerOptions, RunningAgent } from './server.js';
export { SecretCache } from './secret-cache.js';
